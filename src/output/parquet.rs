//! Parquet tables: a small column-typed [`Table`], its exporter to Parquet bytes ([`to_bytes`],
//! which `output::atomic` then writes), a [`TableWriter`] that streams tables of one schema into
//! one file (a sweep's merge), and its reader ([`read`]), with the run tables `series` and
//! `summary` built on them. Written with the Apache Arrow project's `parquet`
//! crate, its low-level column API (no Arrow arrays), Snappy-compressed, text columns
//! dictionary-encoded.
//!
//! Types are fixed per column, whatever the values: integer years and replicates are `INT32`,
//! counts of persons and statistics `DOUBLE`, names `UTF8` strings; a statistic that is
//! undefined (the `sd` of one replicate, an empty cell in the CSV) is a null. A 63-bit seed
//! belongs in a text column (`Values::Text`), which no double-based reader can corrupt.

use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::column::reader::ColumnReader;
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use super::SummaryRow;
use crate::observe::{Layout, Row, Sex};

/// Rows per row group: large enough for good compression, small enough to stream.
const ROW_GROUP: usize = 1 << 20;

/// A column's values; every column of a table has the same length.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// `BOOLEAN`, required.
    Bool(Vec<bool>),
    /// `INT32`, required.
    Int32(Vec<i32>),
    /// `INT32`, nullable (`None` is a null).
    OptInt32(Vec<Option<i32>>),
    /// `INT64`, required.
    Int64(Vec<i64>),
    /// `DOUBLE`, required.
    Float64(Vec<f64>),
    /// `DOUBLE`, nullable (`None` is a null).
    OptFloat64(Vec<Option<f64>>),
    /// `BYTE_ARRAY` annotated as a UTF-8 string, required.
    Text(Vec<String>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Bool(v) => v.len(),
            Values::Int32(v) => v.len(),
            Values::OptInt32(v) => v.len(),
            Values::Int64(v) => v.len(),
            Values::Float64(v) => v.len(),
            Values::OptFloat64(v) => v.len(),
            Values::Text(v) => v.len(),
        }
    }

    /// The Parquet type of a column of these values.
    fn field(&self, name: &str) -> Result<Type, parquet::errors::ParquetError> {
        let (physical, logical, repetition) = match self {
            // Plain INT32 and INT64 are signed integers to every reader.
            Values::Bool(_) => (Physical::BOOLEAN, None, Repetition::REQUIRED),
            Values::Int32(_) => (Physical::INT32, None, Repetition::REQUIRED),
            Values::OptInt32(_) => (Physical::INT32, None, Repetition::OPTIONAL),
            Values::Int64(_) => (Physical::INT64, None, Repetition::REQUIRED),
            Values::Float64(_) => (Physical::DOUBLE, None, Repetition::REQUIRED),
            Values::OptFloat64(_) => (Physical::DOUBLE, None, Repetition::OPTIONAL),
            Values::Text(_) => (
                Physical::BYTE_ARRAY,
                Some(LogicalType::String),
                Repetition::REQUIRED,
            ),
        };
        Type::primitive_type_builder(name, physical)
            .with_logical_type(logical)
            .with_repetition(repetition)
            .build()
    }

    /// No values, of the same type.
    pub fn empty_like(&self) -> Values {
        match self {
            Values::Bool(_) => Values::Bool(Vec::new()),
            Values::Int32(_) => Values::Int32(Vec::new()),
            Values::OptInt32(_) => Values::OptInt32(Vec::new()),
            Values::Int64(_) => Values::Int64(Vec::new()),
            Values::Float64(_) => Values::Float64(Vec::new()),
            Values::OptFloat64(_) => Values::OptFloat64(Vec::new()),
            Values::Text(_) => Values::Text(Vec::new()),
        }
    }

    /// The type's name, as the errors give it.
    pub fn kind(&self) -> &'static str {
        match self {
            Values::Bool(_) => "BOOLEAN",
            Values::Int32(_) => "INT32",
            Values::OptInt32(_) => "optional INT32",
            Values::Int64(_) => "INT64",
            Values::Float64(_) => "DOUBLE",
            Values::OptFloat64(_) => "optional DOUBLE",
            Values::Text(_) => "UTF8",
        }
    }

    /// Appends `other`'s values; `false` (and nothing appended) if its type differs.
    fn append(&mut self, other: Values) -> bool {
        match (self, other) {
            (Values::Bool(a), Values::Bool(b)) => a.extend(b),
            (Values::Int32(a), Values::Int32(b)) => a.extend(b),
            (Values::OptInt32(a), Values::OptInt32(b)) => a.extend(b),
            (Values::Int64(a), Values::Int64(b)) => a.extend(b),
            (Values::Float64(a), Values::Float64(b)) => a.extend(b),
            (Values::OptFloat64(a), Values::OptFloat64(b)) => a.extend(b),
            (Values::Text(a), Values::Text(b)) => a.extend(b),
            _ => return false,
        }
        true
    }
}

/// A named column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Its values.
    pub values: Values,
}

impl Column {
    /// A column named `name`.
    pub fn new(name: &str, values: Values) -> Column {
        Column {
            name: name.to_string(),
            values,
        }
    }
}

/// Columns of equal length, and key-value metadata stored in the file's footer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// Footer metadata, e.g. `("diaspora.version", "0.2.0")`.
    pub metadata: Vec<(String, String)>,
}

impl Table {
    /// Rows in the table.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }

    /// The same columns and metadata, without rows.
    pub fn empty_like(&self) -> Table {
        Table {
            columns: self
                .columns
                .iter()
                .map(|c| Column::new(&c.name, c.values.empty_like()))
                .collect(),
            metadata: self.metadata.clone(),
        }
    }

    /// Appends `other`'s rows: its columns must have these names and types, in this order.
    pub fn append(&mut self, other: Table) -> Result<(), TableError> {
        check_lengths(&other)?;
        self.check_schema(&other)?;
        for (mine, c) in self.columns.iter_mut().zip(other.columns) {
            mine.values.append(c.values);
        }
        Ok(())
    }

    /// Checks that `other` has these column names and types, in this order.
    pub fn check_schema(&self, other: &Table) -> Result<(), TableError> {
        let names = |t: &Table| -> Vec<String> {
            let cols = t.columns.iter();
            cols.map(|c| format!("{} {}", c.name, c.values.kind()))
                .collect()
        };
        let (mine, theirs) = (names(self), names(other));
        if mine == theirs {
            return Ok(());
        }
        Err(TableError::Type {
            column: "(schema)".into(),
            expected: format!("columns {}", mine.join(", ")),
            found: theirs.join(", "),
        })
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Values> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.values)
    }
}

/// A Parquet file that could not be written or read as expected.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The `parquet` crate's error (encoding, a damaged or truncated file).
    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Columns of different lengths.
    #[error("column `{column}` has {found} rows, expected {expected}")]
    Length {
        /// Column name.
        column: String,
        /// Rows of the first column.
        expected: usize,
        /// Rows of this one.
        found: usize,
    },
    /// A column of a type the reader does not take, or not the type a table needs.
    #[error("column `{column}`: expected {expected}, found {found}")]
    Type {
        /// Column name.
        column: String,
        /// What was expected.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// Text that is not UTF-8.
    #[error("column `{0}`: text is not UTF-8")]
    Utf8(String),
}

/// Encodes `table` as a Parquet file.
pub fn to_bytes(table: &Table) -> Result<Vec<u8>, TableError> {
    let mut out = Vec::new();
    write(table, &mut out)?;
    Ok(out)
}

/// Writes `table` as a Parquet file to `sink` (e.g. the temporary file of
/// `output::write_atomic_with`).
pub fn write<W: Write + Send>(table: &Table, sink: W) -> Result<(), TableError> {
    check_lengths(table)?;
    let mut writer = TableWriter::new(sink, table)?;
    writer.write_groups(table)?;
    writer.finish()
}

fn check_lengths(table: &Table) -> Result<(), TableError> {
    let rows = table.rows();
    for c in &table.columns {
        if c.values.len() != rows {
            return Err(TableError::Length {
                column: c.name.clone(),
                expected: rows,
                found: c.values.len(),
            });
        }
    }
    Ok(())
}

/// Streams tables of one schema into one Parquet file: appended tables are buffered and
/// written as row groups of about [`ROW_GROUP`] rows, so a file far larger than memory can be
/// written part by part (a sweep's merge appends one shard at a time).
pub struct TableWriter<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    /// Rows appended and not yet written (the schema's columns, possibly empty).
    pending: Table,
    /// Whether a row group was written.
    written: bool,
}

impl<W: Write + Send> TableWriter<W> {
    /// A writer of tables with `template`'s column names and types; its metadata goes to the
    /// file's footer. `template`'s rows are not written.
    pub fn new(sink: W, template: &Table) -> Result<TableWriter<W>, TableError> {
        let fields = template
            .columns
            .iter()
            .map(|c| c.values.field(&c.name).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        let schema = Type::group_type_builder("schema")
            .with_fields(fields)
            .build()?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("diaspora {}", env!("CARGO_PKG_VERSION")))
            .build();
        let mut writer = SerializedFileWriter::new(sink, Arc::new(schema), Arc::new(props))?;
        for (k, v) in &template.metadata {
            writer.append_key_value_metadata(KeyValue::new(k.clone(), v.clone()));
        }
        Ok(TableWriter {
            writer,
            pending: template.empty_like(),
            written: false,
        })
    }

    /// Appends `table`'s rows: its columns must have the writer's names and types, in order.
    pub fn append(&mut self, table: Table) -> Result<(), TableError> {
        self.pending.append(table)?;
        if self.pending.rows() >= ROW_GROUP {
            let empty = self.pending.empty_like();
            let full = std::mem::replace(&mut self.pending, empty);
            self.write_groups(&full)?;
        }
        Ok(())
    }

    /// Writes what is buffered and the footer.
    pub fn finish(mut self) -> Result<(), TableError> {
        let rest = std::mem::take(&mut self.pending);
        if rest.rows() > 0 || !self.written {
            self.write_groups(&rest)?;
        }
        self.writer.close()?;
        Ok(())
    }

    /// Writes `table` as row groups of at most [`ROW_GROUP`] rows (one empty group if it has no
    /// rows).
    fn write_groups(&mut self, table: &Table) -> Result<(), TableError> {
        let rows = table.rows();
        let mut start = 0;
        loop {
            let end = (start + ROW_GROUP).min(rows);
            let mut group = self.writer.next_row_group()?;
            for c in &table.columns {
                let mut col = group
                    .next_column()?
                    .expect("one column writer per schema field");
                write_chunk(col.untyped(), &c.values, start..end)?;
                col.close()?;
            }
            group.close()?;
            self.written = true;
            start = end;
            if start >= rows {
                return Ok(());
            }
        }
    }
}

fn write_chunk(
    writer: &mut ColumnWriter<'_>,
    values: &Values,
    range: std::ops::Range<usize>,
) -> Result<(), TableError> {
    let mismatch = || -> TableError {
        parquet::errors::ParquetError::General("column writer of another type".into()).into()
    };
    match (writer, values) {
        (ColumnWriter::BoolColumnWriter(w), Values::Bool(v)) => {
            w.write_batch(&v[range], None, None)?;
        }
        (ColumnWriter::Int32ColumnWriter(w), Values::Int32(v)) => {
            w.write_batch(&v[range], None, None)?;
        }
        (ColumnWriter::Int32ColumnWriter(w), Values::OptInt32(v)) => {
            let (present, levels) = levels(&v[range]);
            w.write_batch(&present, Some(&levels), None)?;
        }
        (ColumnWriter::Int64ColumnWriter(w), Values::Int64(v)) => {
            w.write_batch(&v[range], None, None)?;
        }
        (ColumnWriter::DoubleColumnWriter(w), Values::Float64(v)) => {
            w.write_batch(&v[range], None, None)?;
        }
        (ColumnWriter::DoubleColumnWriter(w), Values::OptFloat64(v)) => {
            let (present, levels) = levels(&v[range]);
            w.write_batch(&present, Some(&levels), None)?;
        }
        (ColumnWriter::ByteArrayColumnWriter(w), Values::Text(v)) => {
            let bytes: Vec<ByteArray> = v[range]
                .iter()
                .map(|s| ByteArray::from(s.as_str()))
                .collect();
            w.write_batch(&bytes, None, None)?;
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

/// The values present and the definition levels (1 present, 0 null) of a nullable column.
fn levels<T: Copy>(chunk: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
    let present = chunk.iter().flatten().copied().collect();
    let levels = chunk.iter().map(|x| i16::from(x.is_some())).collect();
    (present, levels)
}

/// The values of a nullable column from what a reader gives: the definition levels and the
/// values present.
fn with_nulls<T>(levels: &[i16], present: Vec<T>) -> impl Iterator<Item = Option<T>> + use<'_, T> {
    let mut next = present.into_iter();
    levels
        .iter()
        .map(move |&l| if l > 0 { next.next() } else { None })
}

/// Reads a Parquet file of flat columns of the types [`Values`] holds.
pub fn read(bytes: Vec<u8>) -> Result<Table, TableError> {
    let reader = SerializedFileReader::new(Bytes::from(bytes))?;
    let meta = reader.metadata().file_metadata();
    let metadata = meta
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let schema = meta.schema_descr();
    let mut columns: Vec<Column> = schema
        .columns()
        .iter()
        .map(|c| {
            let name = c.name().to_string();
            let optional = c.max_def_level() > 0;
            let values = match (c.physical_type(), optional) {
                (Physical::BOOLEAN, false) => Values::Bool(Vec::new()),
                (Physical::INT32, false) => Values::Int32(Vec::new()),
                (Physical::INT32, true) => Values::OptInt32(Vec::new()),
                (Physical::INT64, false) => Values::Int64(Vec::new()),
                (Physical::DOUBLE, false) => Values::Float64(Vec::new()),
                (Physical::DOUBLE, true) => Values::OptFloat64(Vec::new()),
                (Physical::BYTE_ARRAY, false) => Values::Text(Vec::new()),
                (t, o) => {
                    return Err(TableError::Type {
                        column: name,
                        expected:
                            "a required BOOLEAN, INT32, INT64, DOUBLE or UTF8 column, or an optional INT32 or DOUBLE"
                                .into(),
                        found: format!("{}{t}", if o { "optional " } else { "" }),
                    });
                }
            };
            Ok(Column { name, values })
        })
        .collect::<Result<_, _>>()?;
    for g in 0..reader.num_row_groups() {
        let group = reader.get_row_group(g)?;
        let rows = group.metadata().num_rows() as usize;
        for (i, column) in columns.iter_mut().enumerate() {
            read_chunk(group.get_column_reader(i)?, column, rows)?;
        }
    }
    Ok(Table { columns, metadata })
}

fn read_chunk(reader: ColumnReader, column: &mut Column, rows: usize) -> Result<(), TableError> {
    let name = column.name.clone();
    match (reader, &mut column.values) {
        (ColumnReader::BoolColumnReader(mut r), Values::Bool(v)) => {
            r.read_records(rows, None, None, v)?;
        }
        (ColumnReader::Int32ColumnReader(mut r), Values::Int32(v)) => {
            r.read_records(rows, None, None, v)?;
        }
        (ColumnReader::Int32ColumnReader(mut r), Values::OptInt32(v)) => {
            let (mut levels, mut present) = (Vec::with_capacity(rows), Vec::new());
            r.read_records(rows, Some(&mut levels), None, &mut present)?;
            v.extend(with_nulls(&levels, present));
        }
        (ColumnReader::Int64ColumnReader(mut r), Values::Int64(v)) => {
            r.read_records(rows, None, None, v)?;
        }
        (ColumnReader::DoubleColumnReader(mut r), Values::Float64(v)) => {
            r.read_records(rows, None, None, v)?;
        }
        (ColumnReader::DoubleColumnReader(mut r), Values::OptFloat64(v)) => {
            let (mut levels, mut present) = (Vec::with_capacity(rows), Vec::new());
            r.read_records(rows, Some(&mut levels), None, &mut present)?;
            v.extend(with_nulls(&levels, present));
        }
        (ColumnReader::ByteArrayColumnReader(mut r), Values::Text(v)) => {
            let mut bytes = Vec::with_capacity(rows);
            r.read_records(rows, None, None, &mut bytes)?;
            for b in bytes {
                let s = b.as_utf8().map_err(|_| TableError::Utf8(name.clone()))?;
                v.push(s.to_string());
            }
        }
        _ => {
            return Err(parquet::errors::ParquetError::General(format!(
                "column `{name}`: reader of another type"
            ))
            .into());
        }
    }
    Ok(())
}

/// Footer metadata every run table carries.
fn run_metadata(scenario_hash: &str) -> Vec<(String, String)> {
    vec![
        ("diaspora.version".into(), env!("CARGO_PKG_VERSION").into()),
        ("diaspora.scenario_hash".into(), scenario_hash.into()),
    ]
}

/// The names of `(series, place, sex)` of a row.
fn key_names<'a>(layout: &'a Layout, row: &Row) -> (&'a str, &'a str, &'static str) {
    (
        &layout.series[usize::from(row.series)],
        &layout.places[usize::from(row.place)],
        row.sex.name(),
    )
}

/// `series.parquet`: the columns of `series.csv` (`replicate` and `year` INT32, `series`,
/// `place`, `sex` text, `value` DOUBLE), in the same row order.
pub fn series_table(layout: &Layout, replicates: &[(u32, &[Row])], scenario_hash: &str) -> Table {
    let n: usize = replicates.iter().map(|r| r.1.len()).sum();
    let (mut rep, mut year, mut value) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut series, mut place, mut sex) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (r, rows) in replicates {
        for row in *rows {
            let (s, p, x) = key_names(layout, row);
            rep.push(*r as i32);
            year.push(row.year);
            series.push(s.to_string());
            place.push(p.to_string());
            sex.push(x.to_string());
            value.push(row.value);
        }
    }
    Table {
        columns: vec![
            Column::new("replicate", Values::Int32(rep)),
            Column::new("year", Values::Int32(year)),
            Column::new("series", Values::Text(series)),
            Column::new("place", Values::Text(place)),
            Column::new("sex", Values::Text(sex)),
            Column::new("value", Values::Float64(value)),
        ],
        metadata: run_metadata(scenario_hash),
    }
}

/// `summary.parquet`: the columns of `summary.csv` (`year` INT32, names as text, statistics
/// DOUBLE at full precision, `sd` null where undefined).
pub fn summary_table(layout: &Layout, rows: &[SummaryRow], scenario_hash: &str) -> Table {
    let mut year = Vec::with_capacity(rows.len());
    let (mut series, mut place, mut sex) = (Vec::new(), Vec::new(), Vec::new());
    let mut stats: [Vec<Option<f64>>; 5] = Default::default();
    for r in rows {
        let (s, p, x) = key_names(layout, &r.key);
        year.push(r.key.year);
        series.push(s.to_string());
        place.push(p.to_string());
        sex.push(x.to_string());
        for (col, v) in stats.iter_mut().zip([r.mean, r.sd, r.p05, r.p50, r.p95]) {
            col.push((!v.is_nan()).then_some(v));
        }
    }
    let [mean, sd, p05, p50, p95] = stats;
    let required = |v: Vec<Option<f64>>| {
        Values::Float64(v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
    };
    Table {
        columns: vec![
            Column::new("year", Values::Int32(year)),
            Column::new("series", Values::Text(series)),
            Column::new("place", Values::Text(place)),
            Column::new("sex", Values::Text(sex)),
            Column::new("mean", required(mean)),
            Column::new("sd", Values::OptFloat64(sd)),
            Column::new("p05", required(p05)),
            Column::new("p50", required(p50)),
            Column::new("p95", required(p95)),
        ],
        metadata: run_metadata(scenario_hash),
    }
}

/// Interns names in order of first appearance, as the CSV readers do.
#[derive(Default)]
struct Names {
    names: Vec<String>,
    ids: std::collections::HashMap<String, u16>,
}

impl Names {
    fn id(&mut self, s: &str) -> Result<u16, String> {
        if let Some(&i) = self.ids.get(s) {
            return Ok(i);
        }
        let i = u16::try_from(self.names.len()).map_err(|_| "too many distinct names")?;
        self.names.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        Ok(i)
    }
}

fn typed<'a>(table: &'a Table, name: &str, expected: &str) -> Result<&'a Values, TableError> {
    table.column(name).ok_or_else(|| TableError::Type {
        column: name.into(),
        expected: expected.into(),
        found: "no such column".into(),
    })
}

macro_rules! column {
    ($table:expr, $name:literal, $variant:ident, $expected:literal) => {
        match typed($table, $name, $expected)? {
            Values::$variant(v) => v,
            other => {
                return Err(TableError::Type {
                    column: $name.into(),
                    expected: $expected.into(),
                    found: format!("{other:?}").chars().take(12).collect(),
                })
            }
        }
    };
}

/// The rows of a `series.parquet` table (or its names), as `read_series` gives them for CSV.
pub fn series_rows(table: &Table) -> Result<(Layout, Vec<(u32, Row)>), TableError> {
    let rep = column!(table, "replicate", Int32, "INT32");
    let year = column!(table, "year", Int32, "INT32");
    let series = column!(table, "series", Text, "UTF8");
    let place = column!(table, "place", Text, "UTF8");
    let sex = column!(table, "sex", Text, "UTF8");
    let value = column!(table, "value", Float64, "DOUBLE");
    let (mut s_names, mut p_names) = (Names::default(), Names::default());
    let mut rows = Vec::with_capacity(table.rows());
    for i in 0..table.rows() {
        let bad = |m: String| TableError::Type {
            column: "series/place/sex".into(),
            expected: "names".into(),
            found: m,
        };
        let sex = match sex[i].as_str() {
            "female" => Sex::Female,
            "male" => Sex::Male,
            "total" => Sex::Total,
            other => {
                return Err(TableError::Type {
                    column: "sex".into(),
                    expected: "female, male or total".into(),
                    found: format!("\"{other}\""),
                });
            }
        };
        let replicate = u32::try_from(rep[i]).map_err(|_| TableError::Type {
            column: "replicate".into(),
            expected: "an index >= 0".into(),
            found: rep[i].to_string(),
        })?;
        rows.push((
            replicate,
            Row {
                year: year[i],
                series: s_names.id(&series[i]).map_err(bad)?,
                place: p_names.id(&place[i]).map_err(bad)?,
                sex,
                value: value[i],
            },
        ));
    }
    Ok((
        Layout {
            series: s_names.names,
            places: p_names.names,
        },
        rows,
    ))
}

/// The rows of a `summary.parquet` table, as `read_summary` gives them for CSV (a null is NaN).
pub fn summary_rows(table: &Table) -> Result<(Layout, Vec<SummaryRow>), TableError> {
    let year = column!(table, "year", Int32, "INT32");
    let mut stats = Vec::new();
    for name in ["mean", "sd", "p05", "p50", "p95"] {
        stats.push(match typed(table, name, "DOUBLE")? {
            Values::Float64(v) => v.clone(),
            Values::OptFloat64(v) => v.iter().map(|x| x.unwrap_or(f64::NAN)).collect(),
            _ => {
                return Err(TableError::Type {
                    column: name.into(),
                    expected: "DOUBLE".into(),
                    found: "another type".into(),
                });
            }
        });
    }
    // The keys are read as the series table's are: reuse it with a placeholder replicate.
    let keys = Table {
        columns: vec![
            Column::new("replicate", Values::Int32(vec![0; table.rows()])),
            Column::new("year", Values::Int32(year.clone())),
            Column::new("series", typed(table, "series", "UTF8")?.clone()),
            Column::new("place", typed(table, "place", "UTF8")?.clone()),
            Column::new("sex", typed(table, "sex", "UTF8")?.clone()),
            Column::new("value", Values::Float64(vec![0.0; table.rows()])),
        ],
        metadata: Vec::new(),
    };
    let (layout, keys) = series_rows(&keys)?;
    let rows = keys
        .into_iter()
        .enumerate()
        .map(|(i, (_, key))| SummaryRow {
            key,
            mean: stats[0][i],
            sd: stats[1][i],
            p05: stats[2][i],
            p50: stats[3][i],
            p95: stats[4][i],
        })
        .collect();
    Ok((layout, rows))
}

/// Reads the Parquet file at `path` as a table.
pub fn read_file(path: &std::path::Path) -> Result<Table, crate::input::FileError> {
    use crate::input::FileError;
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| FileError::Io {
        path: name.clone(),
        source,
    })?;
    read(bytes).map_err(|e| FileError::Content {
        path: name,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout {
            series: vec!["a".into(), "b".into()],
            places: vec!["P".into(), "ALL".into()],
        }
    }

    fn rows(r: u32) -> Vec<Row> {
        vec![
            Row {
                year: 1990,
                series: 0,
                place: 0,
                sex: Sex::Female,
                value: f64::from(r) * 1.5,
            },
            Row {
                year: 2025,
                series: 1,
                place: 1,
                sex: Sex::Total,
                value: 0.1 + f64::from(r),
            },
        ]
    }

    #[test]
    fn a_table_reads_back_bit_for_bit_with_its_types_and_nulls() {
        let table = Table {
            columns: vec![
                Column::new("i", Values::Int32(vec![1, -2, 2025])),
                Column::new(
                    "seed",
                    Values::Text(vec!["5568824538861319314".into(), "0".into(), "é".into()]),
                ),
                Column::new("big", Values::Int64(vec![i64::MAX, 0, -1])),
                Column::new("flag", Values::Bool(vec![true, false, true])),
                Column::new("year", Values::OptInt32(vec![Some(2025), None, Some(-1)])),
                Column::new("x", Values::Float64(vec![0.1, f64::MAX, -0.0])),
                Column::new("y", Values::OptFloat64(vec![None, Some(1e-300), None])),
            ],
            metadata: vec![("k".into(), "v".into())],
        };
        let bytes = to_bytes(&table).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        let back = read(bytes).unwrap();
        assert_eq!(back.columns, table.columns);
        assert_eq!(back.metadata, table.metadata);
    }

    /// Tables appended to a writer read back as their concatenation, across a row-group
    /// boundary, with the footer metadata of the template.
    #[test]
    fn appended_tables_read_back_as_one() {
        let part = |from: i32, n: i32| Table {
            columns: vec![
                Column::new("i", Values::Int32((from..from + n).collect())),
                Column::new(
                    "y",
                    Values::OptInt32(
                        (from..from + n)
                            .map(|i| (i % 3 != 0).then_some(i))
                            .collect(),
                    ),
                ),
            ],
            metadata: vec![("k".into(), "v".into())],
        };
        let big = ROW_GROUP as i32;
        let mut bytes = Vec::new();
        let mut w = TableWriter::new(&mut bytes, &part(0, 0)).unwrap();
        w.append(part(0, 7)).unwrap();
        w.append(part(7, big)).unwrap();
        w.append(part(7 + big, 5)).unwrap();
        w.finish().unwrap();
        // Flushed when the buffer passed ROW_GROUP rows: [ROW_GROUP, 7], then the last 5.
        let reader = SerializedFileReader::new(Bytes::from(bytes.clone())).unwrap();
        assert_eq!(reader.num_row_groups(), 3);
        let back = read(bytes).unwrap();
        assert_eq!(back.columns, part(0, big + 12).columns);
        assert_eq!(back.metadata, vec![("k".to_string(), "v".to_string())]);
    }

    #[test]
    fn a_table_of_another_schema_is_refused_by_a_writer() {
        let a = Table {
            columns: vec![Column::new("i", Values::Int32(vec![1]))],
            metadata: Vec::new(),
        };
        let mut w = TableWriter::new(Vec::new(), &a).unwrap();
        let b = Table {
            columns: vec![Column::new("i", Values::Int64(vec![1]))],
            metadata: Vec::new(),
        };
        assert!(w.append(b).is_err());
        let c = Table {
            columns: vec![Column::new("j", Values::Int32(vec![1]))],
            metadata: Vec::new(),
        };
        assert!(w.append(c).is_err());
        w.append(a).unwrap();
    }

    #[test]
    fn an_empty_table_is_a_valid_file() {
        let table = Table {
            columns: vec![Column::new("i", Values::Int32(Vec::new()))],
            metadata: Vec::new(),
        };
        assert_eq!(read(to_bytes(&table).unwrap()).unwrap().rows(), 0);
    }

    #[test]
    fn columns_of_unequal_length_are_refused() {
        let table = Table {
            columns: vec![
                Column::new("a", Values::Int32(vec![1, 2])),
                Column::new("b", Values::Int32(vec![1])),
            ],
            metadata: Vec::new(),
        };
        let e = to_bytes(&table).unwrap_err().to_string();
        assert_eq!(e, "column `b` has 1 rows, expected 2");
    }

    #[test]
    fn series_rows_read_back_what_was_written() {
        let reps: Vec<Vec<Row>> = (0..3).map(rows).collect();
        let numbered: Vec<(u32, &[Row])> = (0u32..).zip(reps.iter().map(Vec::as_slice)).collect();
        let table = series_table(&layout(), &numbered, "h");
        let back = read(to_bytes(&table).unwrap()).unwrap();
        let (l, rows) = series_rows(&back).unwrap();
        assert_eq!(l.series, ["a", "b"]);
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[5].0, 2);
        assert_eq!(rows[5].1, reps[2][1]);
        assert_eq!(
            back.metadata[1],
            ("diaspora.scenario_hash".into(), "h".into())
        );
    }

    #[test]
    fn an_undefined_sd_is_a_null_and_the_rest_is_exact() {
        let one = rows(1);
        let s = super::super::summarise(&[&one]);
        let table = summary_table(&layout(), &s, "h");
        let back = read(to_bytes(&table).unwrap()).unwrap();
        assert_eq!(
            back.column("sd"),
            Some(&Values::OptFloat64(vec![None, None]))
        );
        assert_eq!(back.column("p50"), Some(&Values::Float64(vec![1.5, 1.1])));
        assert_eq!(back.column("year"), Some(&Values::Int32(vec![1990, 2025])));
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_panic() {
        let table = Table {
            columns: vec![Column::new("i", Values::Int32(vec![1, 2, 3]))],
            metadata: Vec::new(),
        };
        let mut bytes = to_bytes(&table).unwrap();
        bytes.truncate(bytes.len() - 9);
        assert!(read(bytes).is_err());
        assert!(read(b"not parquet".to_vec()).is_err());
    }
}
