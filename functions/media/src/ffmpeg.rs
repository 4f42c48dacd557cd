//! Running ffmpeg and ffprobe (on the PATH: `/opt/bin` from the Lambda layer
//! in AWS, the system's locally). A render reports its progress from
//! ffmpeg's `-progress` output as it goes, and stops (the child is killed)
//! the moment its job is cancelled.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

use crate::job::Meter;

/// How a run ended other than with success.
#[derive(Debug)]
pub enum RunError {
    /// The job was cancelled: the child was killed.
    Cancelled,
    /// ffmpeg could not start or failed; the text says why (for the log).
    Failed(String),
}

fn program(name: &str) -> String {
    let var = format!("WHATIF_{}_PROGRAM", name.to_ascii_uppercase());
    std::env::var(var).unwrap_or_else(|_| name.to_string())
}

/// Runs `ffmpeg` with `args` (after `-progress pipe:1`), moving `meter` by
/// the seconds of output written so far of `total`, and killing the child as
/// soon as `cancelled` resolves.
pub async fn run(
    args: &[String],
    meter: Meter,
    total: f64,
    cancelled: impl std::future::Future<Output = ()>,
) -> Result<(), RunError> {
    let mut child = Command::new(program("ffmpeg"))
        .args(["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| RunError::Failed(format!("cannot run ffmpeg: {e}")))?;
    let stdout = child.stdout.take().ok_or_else(|| RunError::Failed("no ffmpeg stdout".into()))?;
    let mut stderr = child.stderr.take().ok_or_else(|| RunError::Failed("no ffmpeg stderr".into()))?;
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut lines = BufReader::new(stdout).lines();
    tokio::pin!(cancelled);
    loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    // `out_time_us` (and the misnamed `out_time_ms`) are microseconds.
                    if let Some(us) = line.strip_prefix("out_time_us=").and_then(|v| v.trim().parse::<i64>().ok())
                        && us >= 0
                    {
                        meter.at(us as f64 / 1e6, total);
                    }
                }
                Ok(None) | Err(_) => break,
            },
            () = &mut cancelled => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                return Err(RunError::Cancelled);
            }
        }
    }
    let status = tokio::select! {
        status = child.wait() => status.map_err(|e| RunError::Failed(format!("ffmpeg: {e}")))?,
        () = &mut cancelled => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            return Err(RunError::Cancelled);
        }
    };
    if status.success() {
        Ok(())
    } else {
        let text = errors.await.unwrap_or_default();
        let tail: String = text.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
        Err(RunError::Failed(format!("ffmpeg exited with {status}: {}", tail.chars().take(400).collect::<String>())))
    }
}

/// The duration of a media file in seconds, as ffprobe reads its container.
pub async fn duration(path: &Path) -> Result<f64, String> {
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new(program("ffprobe"))
            .args(["-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1"])
            .arg(path)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| "ffprobe timed out".to_string())?
    .map_err(|e| format!("cannot run ffprobe: {e}"))?;
    if !output.status.success() {
        return Err(format!("ffprobe exited with {}", output.status));
    }
    String::from_utf8_lossy(&output.stdout).trim().parse::<f64>().map_err(|_| "ffprobe gave no duration".to_string())
}

/// The version line of ffmpeg, or None when it is not installed.
pub async fn version() -> Option<String> {
    let output = Command::new(program("ffmpeg")).arg("-version").kill_on_drop(true).output().await.ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    output.status.success().then(|| text.lines().next().unwrap_or_default().to_string())
}

/// A file path inside a filter graph: quoted, with `\`, `:` and `'` escaped
/// for both the option parser and the graph parser.
pub fn filter_path(path: &Path) -> String {
    let raw = path.to_string_lossy();
    let mut out = String::new();
    for c in raw.chars() {
        match c {
            '\\' | ':' | '\'' | ',' | ';' | '[' | ']' => {
                out.push('\\');
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}
