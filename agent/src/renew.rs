//! The agent's life: get a bot identity, write the outputs, and keep both
//! fresh until told to stop.
//!
//! One *attempt* is: obtain a bot identity (renew the stored one when it is
//! still valid and renewable; join again with the authenticated client when
//! it is valid but not renewable, as Azure bots must; join from scratch when
//! there is none), store it, then issue and write every output. A daemon
//! repeats attempts every `renewal_interval` (minus up to 10% jitter, so a
//! fleet started together does not renew together). A failed attempt keeps
//! the last good credentials in place, marks the agent not ready, and is
//! retried with capped exponential backoff and jitter; the agent gives up
//! (exits non-zero) only once its credentials have expired *and* the last
//! `retry_limit` attempts failed, because until then retrying costs nothing
//! and exiting would only make systemd restart us into the same state.
//!
//! Signals follow tbot: SIGHUP or SIGUSR1 reloads the config and renews at
//! once (a reload already queued is not queued twice); SIGINT or SIGTERM
//! stops cleanly, abandoning an attempt in flight (files are replaced
//! atomically, so there is never a half-written output).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use joinery_tbot_config::Config;
use joinery_teleport::Identity;
use tokio::sync::mpsc;

use crate::config::LoadError;
use crate::connect::{self, ConnectError};
use crate::diag::Status;
use crate::join::{self, Join, JoinError};
use crate::outputs::{self, OutputError};
use crate::storage::Storage;

/// Longest one attempt may take before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// First backoff delay after a failure.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
/// Longest backoff delay (also never longer than the renewal interval).
const BACKOFF_CAP: Duration = Duration::from_secs(120);

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
    /// Credentials expired and renewals kept failing.
    #[error("giving up after {attempts} consecutive failed attempts with expired credentials; last error: {last}")]
    GaveUp {
        /// Consecutive failures.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// Signal handlers could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
}

/// A signal the agent reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// SIGHUP / SIGUSR1: reload the config and renew now.
    Reload,
    /// SIGINT / SIGTERM: stop.
    Stop,
}

/// Installs the signal handlers and returns the event stream.
pub fn signals() -> Result<mpsc::Receiver<Event>, AgentError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).map_err(AgentError::Signals)?;
    let mut usr1 = signal(SignalKind::user_defined1()).map_err(AgentError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(AgentError::Signals)?;
    let mut term = signal(SignalKind::terminate()).map_err(AgentError::Signals)?;
    // Capacity 1: at most one reload is queued, as in tbot.
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                _ = hup.recv() => Event::Reload,
                _ = usr1.recv() => Event::Reload,
                _ = int.recv() => Event::Stop,
                _ = term.recv() => Event::Stop,
            };
            match event {
                Event::Stop => {
                    let _ = tx.send(Event::Stop).await;
                    return;
                }
                Event::Reload => {
                    if tx.try_send(Event::Reload).is_err() {
                        tracing::info!("a reload is already queued");
                    }
                }
            }
        }
    });
    Ok(rx)
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
}

impl Agent {
    /// An agent for `cfg`, starting from the stored identity if there is a usable one.
    pub fn new(cfg: Config, status: Arc<Status>) -> Self {
        let storage = Storage::new(&cfg.storage);
        let bot = storage.load(&cfg.onboarding.token);
        if bot.is_some() {
            tracing::info!("found a valid stored bot identity: renewing it instead of joining");
        }
        Agent { joiner: join::from_config(&cfg), cfg, storage, status, bot }
    }

    /// Whether the agent has no unexpired bot identity.
    fn credentials_expired(&self) -> bool {
        self.bot.as_ref().is_none_or(|b| remaining(b).is_zero())
    }

    /// One attempt: bot identity, storage, outputs.
    pub async fn attempt(&mut self) -> Result<(), RenewError> {
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
        outputs::write_all(cfg, &client, &bot).await?;
        self.status.succeeded(info.not_after);
        Ok(())
    }

    async fn join(&self, client: &joinery_teleport::Client) -> Result<Identity, JoinError> {
        join::join(&*self.joiner, &self.cfg.onboarding.token, client, self.cfg.credential_ttl).await
    }

    async fn attempt_with_timeout(&mut self) -> Result<(), RenewError> {
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
        self.attempt_with_timeout().await
    }

    /// Daemon mode: attempts until a stop signal, or until giving up.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<Event>,
        reload: Reloader,
        retry_limit: u32,
    ) -> Result<(), AgentError> {
        let mut failures = 0u32;
        let mut last_error: Option<String> = None;
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
                Ok(()) => {
                    if failures > 0 {
                        tracing::info!(failed_attempts = failures, "renewal recovered");
                    }
                    failures = 0;
                    last_error = None;
                    jittered(self.cfg.renewal_interval)
                }
                Err(e) => {
                    failures += 1;
                    let reason = e.reason();
                    self.status.failed(reason);
                    let message = e.to_string();
                    let expired = self.credentials_expired();
                    // Each distinct failure is logged once; repeats only at debug level.
                    if last_error.as_deref() != Some(message.as_str()) {
                        tracing::warn!(reason, attempt = failures, credentials_expired = expired, error = %message, "renewal failed; keeping the last valid credentials");
                    } else {
                        tracing::debug!(reason, attempt = failures, error = %message, "renewal failed again");
                    }
                    if expired && failures >= retry_limit {
                        return Err(AgentError::GaveUp { attempts: failures, last: message });
                    }
                    last_error = Some(message);
                    backoff(failures, self.cfg.renewal_interval)
                }
            };
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

/// The renewal interval minus up to 10%.
fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(1.0 - 0.1 * rand::random::<f64>())
}

/// Capped exponential backoff with jitter (in [d/2, d]) after `failures` failures.
fn backoff(failures: u32, interval: Duration) -> Duration {
    let cap = BACKOFF_CAP.min(interval).max(BACKOFF_BASE);
    let exp = BACKOFF_BASE.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    let d = exp.min(cap);
    d / 2 + (d / 2).mul_f64(rand::random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_jittered() {
        for f in 1..30 {
            let d = backoff(f, Duration::from_secs(2));
            assert!(d <= Duration::from_secs(2), "{d:?}");
            assert!(d >= Duration::from_millis(500), "{d:?}");
        }
        assert!(backoff(1, Duration::from_secs(3600)) <= Duration::from_secs(1));
        assert!(backoff(20, Duration::from_secs(3600)) >= Duration::from_secs(60));
        let j = jittered(Duration::from_secs(100));
        assert!(j <= Duration::from_secs(100) && j >= Duration::from_secs(90));
    }
}
