//! The signals a daemon reacts to, as tbot does: SIGHUP or SIGUSR1 reloads
//! the configuration and renews at once (a reload already queued is not
//! queued twice); SIGINT or SIGTERM stops cleanly.

use tokio::sync::mpsc;

/// A signal the agent reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// SIGHUP / SIGUSR1: reload the config and renew now.
    Reload,
    /// SIGINT / SIGTERM: stop.
    Stop,
}

/// Installs the signal handlers and returns the event stream.
pub fn events() -> std::io::Result<mpsc::Receiver<Event>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup())?;
    let mut usr1 = signal(SignalKind::user_defined1())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
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
