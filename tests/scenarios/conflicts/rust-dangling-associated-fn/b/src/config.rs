use std::env;

pub struct Config {
    pub port: u16,
    pub verbose: bool,
}

impl Config {
    pub fn from_env() -> Config {
        let port = env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8080);
        let verbose = env::var("VERBOSE").is_ok();
        Config { port, verbose }
    }
}

pub fn describe() -> String {
    let config = Config::from_env();
    format!("port {} verbose {}", config.port, config.verbose)
}

pub fn port() -> u16 {
    Config::from_env().port
}
