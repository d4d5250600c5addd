//! `/etc/tbot.yaml` (and `--config-string`): strict decoding, then validation.
#![no_main]

use joinery_tbot_config::{BotConfig, Source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let src = Source::new("tbot.yaml", text);
    if let Ok(config) = BotConfig::parse(&src) {
        let _ = config.validate(&src);
    }
});
