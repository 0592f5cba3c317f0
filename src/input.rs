//! The error of reading an input file that is not TOML scenario text: the observed data and
//! the files of a finished run read back. It names the file and, for content, the line.

/// A problem reading an input file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file cannot be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not in the expected layout.
    #[error("{path}:{line}: {message}")]
    Format {
        /// File.
        path: String,
        /// Line (1-based; 1 is the header).
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A small TOML file beside the data (declared source quirks), located by key.
    #[error(transparent)]
    Toml(#[from] crate::scenario::ScenarioError),
    /// A binary file (Parquet) whose content is not what was expected.
    #[error("{path}: {message}")]
    Content {
        /// File.
        path: String,
        /// What is wrong.
        message: String,
    },
}
