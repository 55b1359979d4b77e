//! Starting real servers for tests: in their own process group, stopped with their workers.

use std::path::Path;
use std::process::{Child, Command, Stdio};

#[cfg(unix)]
pub fn make_world_readable(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for entry in walkdir::WalkDir::new(root) {
        let entry = entry.unwrap();
        let mode = if entry.file_type().is_dir() {
            0o755
        } else {
            0o644
        };
        std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A server in its own process group, stopped (with its workers) when dropped.
pub struct Server(Child);

impl Server {
    /// Wraps a child started in its own process group.
    pub fn from_child(child: Child) -> Self {
        Server(child)
    }

    /// The process id (also its process group's).
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM to the whole group lets the master stop its workers; SIGKILL if it lingers.
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        for _ in 0..50 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if !matches!(self.0.try_wait(), Ok(Some(_))) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &group])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.0.wait();
    }
}

pub fn spawn(cmd: &mut Command, log: &Path) -> Server {
    use std::os::unix::process::CommandExt as _;
    let out = std::fs::File::create(log).unwrap();
    let err = out.try_clone().unwrap();
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    // A binary copied just before may still be open for writing in a child another test
    // thread forked meanwhile (ETXTBSY) until that child execs: try again shortly.
    for _ in 0..100 {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc_etxtbsy()) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            spawned => return Server(spawned.expect("start server")),
        }
    }
    panic!("start server: the binary stayed busy (ETXTBSY)");
}

/// ETXTBSY on Linux.
fn libc_etxtbsy() -> i32 {
    26
}
