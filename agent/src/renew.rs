//! The agent's life: get a bot identity, write the outputs, and keep both
//! fresh until told to stop.
//!
//! One *attempt* is: obtain a bot identity (renew the stored one when it is
//! still valid and renewable; join again with the authenticated client when
//! it is valid but not renewable, as Azure bots must; join from scratch when
//! there is none), store it, then issue and write every output. A daemon
//! repeats attempts on the schedule of [`crate::schedule`]: driven by the
//! certificates actually issued, backing off with jitter after failures,
//! giving up only by a rule about time after expiry. A failed attempt keeps
//! the last good credentials in place and marks the agent not ready.
//!
//! Signals ([`crate::signals`]): a reload re-reads the configuration and
//! renews at once; a stop abandons an attempt in flight (outputs are
//! published atomically, so there is never a half-written one).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use joinery_tbot_config::Config;
use joinery_teleport::Identity;
use tokio::sync::mpsc;

use crate::config::LoadError;
use crate::connect::{self, ConnectError};
use crate::diag::Status;
use crate::join::{self, Join, JoinError};
use crate::outputs::{self, OutputError};
use crate::schedule::{self, Issued, Phase};
use crate::signals::Event;
use crate::storage::Storage;

/// Longest one attempt may take before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum RenewError {
    /// Could not reach or trust the server.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The join or renewal was refused or failed.
    #[error(transparent)]
    Join(#[from] JoinError),
    /// An output could not be issued or written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The bot identity could not be stored.
    #[error("cannot store the bot identity: {0}")]
    Storage(#[from] joinery_util::fs::FsError),
    /// The attempt took too long.
    #[error("the attempt timed out after {}", joinery_util::duration::format(*.0))]
    Timeout(Duration),
}

impl RenewError {
    /// A short label for metrics (`joinery_agent_renewal_failures_total{reason}`).
    pub fn reason(&self) -> &'static str {
        match self {
            RenewError::Connect(e) => e.reason(),
            RenewError::Join(e) => e.reason(),
            RenewError::Output(e) => e.reason(),
            RenewError::Storage(_) => "storage_write",
            RenewError::Timeout(_) => "timeout",
        }
    }
}

/// The metric label of a Teleport failure, wherever in an attempt it happened.
pub(crate) fn teleport_reason(e: &joinery_teleport::Error) -> &'static str {
    use joinery_teleport::Error as E;
    match e {
        E::Connect { .. } => "connect",
        E::UntrustedServer { .. } => "untrusted_server",
        E::AccessDenied(_) => "access_denied",
        E::Unavailable(_) => "unavailable",
        E::Timeout { .. } => "teleport_timeout",
        E::Expired { .. } => "expired",
        E::NotFound(_) => "not_found",
        E::BadParameter(_) => "bad_parameter",
        E::NotImplemented(_) => "not_implemented",
        E::Credentials(_) => "credentials",
        E::Protocol(_) => "protocol",
        E::AlreadyExists(_) | E::MaybeCreated(_) | E::Other { .. } => "other",
    }
}

/// Why the daemon stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The credentials stayed expired for `--give-up-after` and every attempt failed.
    #[error(
        "giving up: the credentials have been expired for {} (--give-up-after) and {attempts} attempts failed; last error: {last}",
        joinery_util::duration::format(*.expired_for)
    )]
    GaveUp {
        /// How long the credentials had been expired.
        expired_for: Duration,
        /// Consecutive failed attempts.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

/// Re-reads the configuration on reload.
pub type Reloader = Box<dyn Fn() -> Result<Config, LoadError> + Send>;

/// The agent's state.
pub struct Agent {
    cfg: Config,
    joiner: Box<dyn Join>,
    storage: Storage,
    status: Arc<Status>,
    bot: Option<Identity>,
    /// The capped lifetime already warned about, so the warning is said once.
    warned_lifetime: Option<Duration>,
    /// This agent's place in the fleet's renewal cycle, once known.
    phase: Option<Phase>,
}

impl Agent {
    /// An agent for `cfg`, starting from the stored identity if there is a usable one.
    pub fn new(cfg: Config, status: Arc<Status>) -> Self {
        let storage = Storage::new(&cfg.storage);
        let bot = storage.load(&cfg.onboarding.token);
        if bot.is_some() {
            tracing::info!("found a valid stored bot identity: renewing it instead of joining");
        }
        Agent { joiner: join::from_config(&cfg), cfg, storage, status, bot, warned_lifetime: None, phase: None }
    }

    /// When the credentials in place expire (`None` without a bot identity):
    /// the bot identity's expiry, or the last success's earliest expiry
    /// among the bot identity and the outputs if that is sooner.
    fn valid_until(&self) -> Option<SystemTime> {
        let bot = self.bot.as_ref()?.tls_info().ok()?.not_after;
        Some(self.status.expires().map_or(bot, |outputs| outputs.min(bot)))
    }

    /// Whether the agent has no unexpired bot identity.
    fn credentials_expired(&self) -> bool {
        self.bot.as_ref().is_none_or(|b| remaining(b).is_zero())
    }

    /// One attempt: bot identity, storage, outputs. Returns what was issued.
    pub async fn attempt(&mut self) -> Result<Issued, RenewError> {
        self.joiner.check_available()?;
        let cfg = &self.cfg;
        let ttl = cfg.credential_ttl;
        let current = self.bot.clone().filter(|b| !remaining(b).is_zero());
        let bot = match current {
            Some(old) => {
                let client = connect::auth_client(cfg, &old).await?;
                let renewable = old.tls_info().map(|i| i.renewable).unwrap_or(false);
                if renewable { join::renew(&client, &old, ttl).await? } else { self.join(&client).await? }
            }
            None => {
                let client = connect::join_client(cfg).await?;
                self.join(&client).await?
            }
        };
        self.storage.save(&bot, &cfg.onboarding.token)?;
        self.bot = Some(bot.clone());
        let info = bot.tls_info().map_err(|e| JoinError::BadCertificate(e.to_string()))?;
        tracing::info!(
            method = %self.joiner.method(),
            user = %info.username,
            generation = info.generation.unwrap_or(0),
            renewable = info.renewable,
            expires = %joinery_teleport::fmt_time(info.not_after),
            "bot identity ready"
        );
        let client = connect::auth_client(cfg, &bot).await?;
        let now = SystemTime::now();
        let mut issued = Issued::expiring(info.not_after, now);
        if let Some(outputs) = outputs::write_all(cfg, &client, &bot).await? {
            issued = issued.earliest(Issued::expiring(outputs, now));
        }
        self.warn_if_shortened(issued.lifetime);
        self.status.succeeded(issued.expires);
        Ok(issued)
    }

    /// This agent's offset in the fleet's renewal cycle: from its bot
    /// instance when the certificate names one (stable across renewals and
    /// restarts, different on every VM), else drawn once.
    fn phase(&mut self) -> Phase {
        let instance = self.bot.as_ref().and_then(|b| b.tls_info().ok()).and_then(|i| i.bot_instance_id);
        match (instance, self.phase) {
            (Some(id), _) => *self.phase.insert(Phase::of(&id)),
            (None, Some(phase)) => phase,
            (None, None) => *self.phase.insert(Phase::random()),
        }
    }

    /// Says once (per capped value) that the server issued less than asked.
    fn warn_if_shortened(&mut self, lifetime: Duration) {
        let asked = self.cfg.credential_ttl;
        if !schedule::shortened(asked, lifetime) {
            self.warned_lifetime = None;
            return;
        }
        let rounded = Duration::from_secs(lifetime.as_secs().div_ceil(60) * 60);
        if self.warned_lifetime == Some(rounded) {
            return;
        }
        self.warned_lifetime = Some(rounded);
        let fmt = joinery_util::duration::format;
        tracing::warn!(
            issued = %fmt(rounded),
            credential_ttl = %fmt(asked),
            renewal_interval = %fmt(self.cfg.renewal_interval),
            renewing_every = %fmt(schedule::renewal_period(self.cfg.renewal_interval, asked, lifetime)),
            "the server issued certificates valid for {} although credential_ttl asks for {}: renewing on the issued lifetime",
            fmt(rounded),
            fmt(asked)
        );
    }

    async fn join(&self, client: &joinery_teleport::Client) -> Result<Identity, JoinError> {
        join::join(&*self.joiner, &self.cfg.onboarding.token, client, self.cfg.credential_ttl).await
    }

    async fn attempt_with_timeout(&mut self) -> Result<Issued, RenewError> {
        match tokio::time::timeout(ATTEMPT_TIMEOUT, self.attempt()).await {
            Ok(r) => r,
            Err(_) => Err(RenewError::Timeout(ATTEMPT_TIMEOUT)),
        }
    }

    /// Takes a reloaded configuration. The bot identity is kept unless the token changed.
    fn reload(&mut self, cfg: Config) {
        if cfg.onboarding.token != self.cfg.onboarding.token {
            tracing::info!("the token changed: the next attempt joins again");
            self.bot = None;
        }
        if cfg.diag_addr != self.cfg.diag_addr {
            tracing::warn!("a new diag_addr takes effect only after a restart");
        }
        self.storage = Storage::new(&cfg.storage);
        self.joiner = join::from_config(&cfg);
        self.cfg = cfg;
    }

    /// One-shot mode: one attempt.
    pub async fn run_once(mut self) -> Result<(), RenewError> {
        self.attempt_with_timeout().await.map(|_| ())
    }

    /// Daemon mode: attempts until a stop signal, or until the credentials
    /// have been expired for `give_up_after` (never, with `None`).
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<Event>,
        reload: Reloader,
        give_up_after: Option<Duration>,
    ) -> Result<(), AgentError> {
        let mut failures = 0u32;
        let mut last_error: Option<String> = None;
        // The renewal period of the last certificates issued.
        let mut period = self.cfg.renewal_interval;
        // When the credentials were first seen expired during failures.
        let mut expired_since: Option<Instant> = None;
        loop {
            let result = tokio::select! {
                r = self.attempt_with_timeout() => Some(r),
                ev = events.recv() => match ev {
                    Some(Event::Reload) => { self.reload_from(&reload); None }
                    Some(Event::Stop) | None => { tracing::info!("stopping"); return Ok(()); }
                },
            };
            let Some(result) = result else { continue };
            let wait = match result {
                Ok(issued) => {
                    if failures > 0 {
                        tracing::info!(failed_attempts = failures, "renewal recovered");
                    }
                    (failures, last_error, expired_since) = (0, None, None);
                    period =
                        schedule::renewal_period(self.cfg.renewal_interval, self.cfg.credential_ttl, issued.lifetime);
                    schedule::next_renewal(SystemTime::now(), period, self.phase())
                }
                Err(e) => {
                    failures += 1;
                    let reason = e.reason();
                    self.status.failed(reason);
                    let message = e.to_string();
                    let expired = self.credentials_expired();
                    if expired {
                        expired_since.get_or_insert_with(Instant::now);
                    }
                    // Each distinct failure is logged once; repeats only at debug level.
                    if last_error.as_deref() != Some(message.as_str()) {
                        tracing::warn!(reason, attempt = failures, credentials_expired = expired, error = %message, "renewal failed; keeping the last valid credentials");
                    } else {
                        tracing::debug!(reason, attempt = failures, error = %message, "renewal failed again");
                    }
                    let expired_for = expired_since.map(|t| t.elapsed());
                    if let Some(expired_for) = expired_for.filter(|_| schedule::gives_up(expired_for, give_up_after)) {
                        return Err(AgentError::GaveUp { expired_for, attempts: failures, last: message });
                    }
                    last_error = Some(message);
                    // Valid credentials: wait for the next slot, as a renewal would (or
                    // for the last moment before they expire); else back off.
                    let valid_until = self.valid_until();
                    let slot = valid_until
                        .and_then(|until| schedule::next_retry(SystemTime::now(), period, self.phase(), until));
                    slot.unwrap_or_else(|| schedule::backoff(failures, period))
                }
            };
            tracing::debug!(wait = %joinery_util::duration::format(wait), "next attempt");
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                ev = events.recv() => match ev {
                    Some(Event::Reload) => self.reload_from(&reload),
                    Some(Event::Stop) | None => { tracing::info!("stopping"); return Ok(()); }
                },
            }
        }
    }

    fn reload_from(&mut self, reload: &Reloader) {
        match reload() {
            Ok(cfg) => {
                tracing::info!("configuration reloaded: renewing now");
                self.reload(cfg);
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot reload the configuration; keeping the previous one and renewing now")
            }
        }
    }
}

/// How long until `identity` expires (zero if it has).
fn remaining(identity: &Identity) -> Duration {
    identity.tls_info().ok().and_then(|i| i.not_after.duration_since(SystemTime::now()).ok()).unwrap_or(Duration::ZERO)
}
