// Package data reads raw text into a stream of documents and writes documents back
// out: plain text files, directories and globs, JSONL (plain, .gz, .zst), WARC/WET
// and Parquet; sharded, atomic writers; and the parallel pipeline that runs
// cleaning steps over a stream with bounded memory.
package data

// Doc is one document flowing through the pipeline. Its JSON form is datatrove's
// (text, id, metadata), so JSONL files interchange with datatrove.
type Doc struct {
	ID   string         `json:"id"`
	Text string         `json:"text"`
	Meta map[string]any `json:"metadata,omitempty"`
}

// Well-known metadata keys.
const (
	MetaSource        = "source"         // file or dataset the document came from
	MetaURL           = "url"            // original URL (WARC/WET, crawls)
	MetaDate          = "date"           // crawl or publication date, RFC 3339
	MetaLanguage      = "language"       // ISO 639-1 code set by language identification
	MetaLanguageScore = "language_score" // identifier's confidence in [0,1]
)

// Step is one stage of a cleaning pipeline: it may rewrite d in place (extraction,
// normalisation, PII) and returns a non-empty drop reason to remove it (filters).
// Process is called from several goroutines at once; a Step must be safe for that.
type Step interface {
	Name() string
	Process(d *Doc) (drop string, err error)
}

// SetMeta sets a metadata key, allocating the map when needed.
func (d *Doc) SetMeta(key string, v any) {
	if d.Meta == nil {
		d.Meta = map[string]any{}
	}
	d.Meta[key] = v
}

// MetaString returns a metadata value as a string ("" when absent or not a string).
func (d *Doc) MetaString(key string) string {
	s, _ := d.Meta[key].(string)
	return s
}
