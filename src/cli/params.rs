//! `helrm params`: the built-in CKKS parameter sets and their security verdicts.

use clap::{Args, Subcommand};
use helrm_core::ckks::params::{preset_names, Params, ParamsSummary};
use serde::Serialize;

use super::CliError;

/// Arguments of `helrm params`.
#[derive(Debug, Args)]
pub struct ParamsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ParamsCommand,
}

/// `helrm params` subcommands.
#[derive(Debug, Subcommand)]
pub enum ParamsCommand {
    /// List the built-in parameter sets: log N, log Q chain, log P, dnum, log QP, slots and the
    /// 128-bit security verdict with the bound used.
    List {
        /// Print a JSON array of objects instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// One listed set: its name and the core's summary.
#[derive(Debug, Serialize)]
pub struct Row {
    /// Preset name.
    pub name: &'static str,
    /// The set's fields.
    #[serde(flatten)]
    pub summary: ParamsSummary,
}

/// Builds every preset and summarises it.
pub fn rows() -> Result<Vec<Row>, CliError> {
    preset_names()
        .iter()
        .map(|&name| {
            Params::preset(name)
                .map(|p| Row {
                    name,
                    summary: p.summary(),
                })
                .map_err(|e| CliError::Run(format!("preset {name}: {e}")))
        })
        .collect()
}

/// `55,40x10` for `[55, 40, 40, …]`: runs of equal sizes written `bits x count`.
fn chain(bits: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bits.len() {
        let run = bits[i..].iter().take_while(|&&b| b == bits[i]).count();
        parts.push(if run == 1 {
            bits[i].to_string()
        } else {
            format!("{}x{}", bits[i], run)
        });
        i += run;
    }
    parts.join(",")
}

/// The table printed by `helrm params list`.
pub fn table(rows: &[Row]) -> String {
    let header = [
        "name", "log N", "log Q", "log P", "dnum", "log QP", "slots", "secret", "security",
    ];
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            let s = &r.summary;
            [
                r.name.to_string(),
                s.log_n.to_string(),
                chain(&s.log_q),
                chain(&s.log_p),
                s.dnum.to_string(),
                s.log_qp.to_string(),
                s.slots.to_string(),
                s.secret.clone(),
                s.security.clone(),
            ]
        })
        .collect();
    let mut width = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |items: &[String]| -> String {
        let padded: Vec<String> = items
            .iter()
            .zip(&width)
            .map(|(c, &w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = line(&header.map(String::from));
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
        out.push('\n');
    }
    out.push_str(
        "log QP is the sum of the prime sizes (Q and P); the bound is the 128-bit maximum for \
         that N and secret (helrm_core::ckks::security).\n",
    );
    out
}

/// Runs `helrm params`.
pub fn run(args: ParamsArgs) -> Result<(), CliError> {
    match args.command {
        ParamsCommand::List { json } => {
            let rows = rows()?;
            if json {
                let text = serde_json::to_string_pretty(&rows)
                    .map_err(|e| CliError::Run(format!("params list: {e}")))?;
                println!("{text}");
            } else {
                print!("{}", table(&rows));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_compresses_runs() {
        assert_eq!(chain(&[55, 40, 40, 40]), "55,40x3");
        assert_eq!(chain(&[61, 61, 61]), "61x3");
        assert_eq!(chain(&[61]), "61");
        assert_eq!(chain(&[40, 50, 40]), "40,50,40");
        assert_eq!(chain(&[]), "");
    }

    #[test]
    fn listing_shows_helrm_n16_l10_secure_at_638() {
        let rows = rows().expect("presets build");
        let text = table(&rows);
        let line = text
            .lines()
            .find(|l| l.starts_with("helrm-n16-l10 "))
            .expect("row present");
        for needle in [
            "55,40x10",
            "61x3",
            "638",
            "32768",
            "128-bit (log QP 638 ≤ 1533)",
        ] {
            assert!(line.contains(needle), "{line:?} lacks {needle:?}");
        }
        let json = serde_json::to_value(&rows).expect("json");
        let first = &json[0];
        assert_eq!(first["name"], "helrm-n16-l10");
        assert_eq!(first["log_n"], 16);
        assert_eq!(first["log_qp"], 638);
        assert_eq!(first["dnum"], 4);
        assert_eq!(first["slots"], 32768);
        assert_eq!(first["secure"], true);
        assert_eq!(first["max_log_qp"], 1533);
        assert_eq!(first["log_p"], serde_json::json!([61, 61, 61]));
        let toy = json
            .as_array()
            .and_then(|a| a.iter().find(|r| r["name"] == "toy-n10"))
            .expect("toy row");
        assert_eq!(toy["secure"], false);
        assert_eq!(toy["max_log_qp"], 27);
    }
}
