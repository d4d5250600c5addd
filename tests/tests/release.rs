//! What `make release` produces, checked as a user or a registry would:
//! names, the zip's one executable, the registry manifest, checksums that
//! match and a signature that verifies, a static agent that reports the
//! release's version and commit, and a `.deb` whose files, owners, modes,
//! unit and example configuration are right.
//!
//! The release is built for this machine's platform ([`release::native`]).

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use joinery_tbot_config::systemd::{AgentUnit, PACKAGED_UNIT_PATH};
use joinery_tbot_config::{BotConfig, Source};
use joinery_testkit::release::{self, NATIVE_PLATFORM, Release};
use joinery_testkit::workspace_root;

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `NAME -> sha256` from a `SHA256SUMS` file, checking each against the file.
fn checked_sums(release: &Release, sums: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(release.file(sums)).unwrap();
    let out = Command::new("sha256sum").arg("--check").arg("--strict").arg(sums).current_dir(&release.dir).output();
    let out = out.expect("run sha256sum");
    assert!(out.status.success(), "{sums} does not match the files:\n{}", String::from_utf8_lossy(&out.stdout));
    text.lines().filter_map(|l| l.split_once("  ")).map(|(h, n)| (n.to_string(), h.to_string())).collect()
}

fn git_head() -> String {
    run("git", &["-C", path(&workspace_root()), "rev-parse", "HEAD"]).trim().to_string()
}

/// Whether an ELF executable asks for a dynamic loader (has a `PT_INTERP` header).
fn is_dynamic(elf: &[u8]) -> bool {
    assert_eq!(&elf[..5], b"\x7fELF\x02", "a 64-bit ELF executable");
    let word = |at: usize, n: usize| elf[at..at + n].iter().rev().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
    let (phoff, phentsize, phnum) = (word(0x20, 8) as usize, word(0x36, 2) as usize, word(0x38, 2) as usize);
    (0..phnum).any(|i| word(phoff + i * phentsize, 4) == 3)
}

#[test]
fn the_provider_release_is_laid_out_for_registries_and_signed() {
    let release = release::native();
    let v = &release.version;
    let provider = format!("terraform-provider-teleport_{v}");
    let sums = checked_sums(release, &format!("{provider}_SHA256SUMS"));
    let zip = format!("{provider}_{NATIVE_PLATFORM}.zip");
    let manifest = format!("{provider}_manifest.json");
    assert_eq!(sums.keys().collect::<Vec<_>>(), [&zip, &manifest], "what SHA256SUMS lists");

    let signature = release.file(&format!("{provider}_SHA256SUMS.sig"));
    assert!(release.key.verifies(&release.file(&format!("{provider}_SHA256SUMS")), &signature));
    let exported = std::fs::read_to_string(release.file("signing-key.asc")).unwrap();
    assert!(exported.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"), "{exported}");
    assert!(!release.file("NOT-FOR-PUBLISHING.txt").exists(), "signed with the given key, not a throwaway");

    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(release.file(&manifest)).unwrap()).unwrap();
    assert_eq!(manifest, serde_json::json!({ "version": 1, "metadata": { "protocol_versions": ["6.0"] } }));

    // The zip holds the one executable Terraform looks for, executable.
    let listing = run("python3", &["-c", ZIP_LISTING, path(&release.file(&zip))]);
    assert_eq!(listing.trim(), format!("terraform-provider-teleport_v{v} 100755"));
}

/// Prints each member of a zip with its unix mode (octal).
const ZIP_LISTING: &str = "import sys, zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(i.filename, oct(i.external_attr >> 16)[2:])";

#[test]
fn the_agent_is_static_and_reports_the_release() {
    let release = release::native();
    let v = &release.version;
    let agent = format!("joinery-agent_{v}");
    let binary = format!("{agent}_{NATIVE_PLATFORM}");
    let deb = format!("{agent}_amd64.deb");
    let sums = checked_sums(release, &format!("{agent}_SHA256SUMS"));
    assert_eq!(sums.keys().collect::<Vec<_>>(), [&deb, &binary], "what the agent's SHA256SUMS lists");
    assert!(
        release
            .key
            .verifies(&release.file(&format!("{agent}_SHA256SUMS")), &release.file(&format!("{agent}_SHA256SUMS.sig")))
    );

    let bytes = std::fs::read(release.file(&binary)).unwrap();
    assert!(!is_dynamic(&bytes), "{binary} needs a dynamic loader: it must run on any distribution");
    let version = run(path(&release.file(&binary)), &["--version"]);
    let expected = format!("joinery-agent {v} (commit {}", git_head());
    assert!(version.starts_with(&expected), "--version said {version:?}, wanted {expected:?}…");
    let long = run(path(&release.file(&binary)), &["version"]);
    assert!(long.starts_with(&format!("joinery-agent v{v} (commit {}", git_head())), "{long}");
}

#[test]
fn the_deb_installs_the_agent_its_unit_user_and_directories() {
    let release = release::native();
    let deb = release.file(&format!("joinery-agent_{}_amd64.deb", release.version));
    let field = |name: &str| run("dpkg-deb", &["--field", path(&deb), name]).trim().to_string();
    assert_eq!(field("Package"), "joinery-agent");
    assert_eq!(field("Version"), release.version.replace('-', "~"));
    assert_eq!(field("Architecture"), "amd64");

    // Every entry: mode, owner, path (dpkg-deb --contents is `tar tv`).
    let contents: BTreeMap<String, (String, String)> = run("dpkg-deb", &["--contents", path(&deb)])
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols[5].trim_start_matches('.').to_string(), (cols[0].to_string(), cols[1].to_string()))
        })
        .collect();
    let expect = [
        ("/usr/bin/joinery-agent", "-rwxr-xr-x"),
        (PACKAGED_UNIT_PATH, "-rw-r--r--"),
        ("/usr/share/doc/joinery-agent/examples/tbot.yaml", "-rw-r--r--"),
        ("/usr/share/doc/joinery-agent/copyright", "-rw-r--r--"),
        // root's in the package; postinst hands it to teleport (dpkg-statoverride).
        ("/opt/machine-id/", "drwx------"),
    ];
    for (file, mode) in expect {
        let entry = contents.get(file).unwrap_or_else(|| panic!("{file} is not in the package: {contents:?}"));
        assert_eq!(entry, &(mode.to_string(), "root/root".to_string()), "{file}");
    }
    assert!(contents.keys().all(|p| !p.starts_with("/usr/local") && !p.starts_with("/etc/")), "{contents:?}");

    let unpacked = tempfile::tempdir().unwrap();
    run("dpkg-deb", &["--raw-extract", path(&deb), path(unpacked.path())]);
    let file = |p: &str| std::fs::read_to_string(unpacked.path().join(p.trim_start_matches('/'))).unwrap();
    assert_eq!(file(PACKAGED_UNIT_PATH), AgentUnit::packaged().render(), "the unit is the shared model's");
    let example = file("/usr/share/doc/joinery-agent/examples/tbot.yaml");
    let src = Source::new("examples/tbot.yaml", &example);
    BotConfig::parse(&src).and_then(|c| c.validate(&src)).expect("the example configuration is valid");
    let binary = std::fs::read(unpacked.path().join("usr/bin/joinery-agent")).unwrap();
    let released =
        std::fs::read(release.file(&format!("joinery-agent_{}_{NATIVE_PLATFORM}", release.version))).unwrap();
    assert!(binary == released, "the package holds the released binary");

    // The maintainer scripts: executable, valid sh, and postinst makes the
    // user and hands it the output directory.
    for script in ["postinst", "prerm", "postrm"] {
        let at = unpacked.path().join("DEBIAN").join(script);
        assert_eq!(joinery_testkit::mode(&at), 0o755, "{script}");
        run("sh", &["-n", path(&at)]);
    }
    let postinst = file("/DEBIAN/postinst");
    assert!(postinst.contains("useradd --system"), "{postinst}");
    assert!(postinst.contains("dpkg-statoverride --update --add teleport teleport 0700 /opt/machine-id"), "{postinst}");
}
