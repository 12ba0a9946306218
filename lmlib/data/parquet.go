package data

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
)

// ParquetReader reads a Parquet file row group by row group (bounded memory: one
// batch of rows at a time). The text comes from the top-level column
// ReadOptions.TextField (default "text"), the id from IDField (default "id", any
// string or integer column; when the column is absent the id is "source/ROW").
// Other top-level scalar columns go into Meta; a string column named "metadata"
// holding a JSON object (as ParquetWriter writes it) is unpacked into Meta.
type ParquetReader struct {
	path, source string
	opts         ReadOptions
	f            *os.File
	pf           *parquet.File
	textCol      int
	idCol        int // -1: none
	names        map[int]string
	rg           int
	rows         parquet.Rows
	buf          []parquet.Row
	n, i         int
	row          int64
	done         bool
}

// NewParquetReader opens a Parquet file.
func NewParquetReader(path string, opts ReadOptions) (r *ParquetReader, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: open %s: %w", path, err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("data: open %s: not a readable Parquet file: %v", path, p)
		}
		if err != nil {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("data: open %s: %w", path, err)
	}
	if err := checkParquetFrame(f, st.Size()); err != nil {
		return nil, fmt.Errorf("data: open %s: not a readable Parquet file: %w", path, err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("data: open %s: not a readable Parquet file: %w", path, err)
	}
	r = &ParquetReader{path: path, source: sourceName(path, opts), opts: opts, f: f, pf: pf, idCol: -1,
		names: map[int]string{}, buf: make([]parquet.Row, 64)}
	schema := pf.Schema()
	tf := opts.textField()
	leaf, ok := schema.Lookup(tf)
	if !ok || leaf.Node == nil {
		return nil, fmt.Errorf("data: open %s: no column %q for the text (columns: %v)", path, tf, columnNames(schema))
	}
	if k := leaf.Node.Type().Kind(); k != parquet.ByteArray {
		return nil, fmt.Errorf("data: open %s: text column %q holds %v, not strings", path, tf, k)
	}
	r.textCol = leaf.ColumnIndex
	if leaf, ok := schema.Lookup(opts.idField()); ok && leaf.Node != nil {
		r.idCol = leaf.ColumnIndex
	}
	for _, c := range schema.Columns() {
		if len(c) != 1 {
			continue // nested: not flattened into Meta
		}
		if leaf, ok := schema.Lookup(c...); ok && leaf.MaxRepetitionLevel == 0 &&
			leaf.ColumnIndex != r.textCol && leaf.ColumnIndex != r.idCol {
			r.names[leaf.ColumnIndex] = c[0]
		}
	}
	return r, nil
}

// checkParquetFrame checks the magic bytes and the footer length before the
// footer is read, so a corrupt length cannot make the reader allocate gigabytes.
func checkParquetFrame(f *os.File, size int64) error {
	if size < 12 {
		return fmt.Errorf("%d bytes is too short", size)
	}
	var head [4]byte
	var tail [8]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return err
	}
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return err
	}
	if string(head[:]) != "PAR1" || string(tail[4:]) != "PAR1" {
		return errors.New("no PAR1 magic at the start and end")
	}
	footer := int64(binary.LittleEndian.Uint32(tail[:4]))
	if footer+12 > size {
		return fmt.Errorf("footer length %d exceeds the file size %d", footer, size)
	}
	return nil
}

func columnNames(s *parquet.Schema) []string {
	var out []string
	for _, c := range s.Columns() {
		name := ""
		for i, p := range c {
			if i > 0 {
				name += "."
			}
			name += p
		}
		out = append(out, name)
	}
	return out
}

func (r *ParquetReader) readStats() *ReadStats { return r.opts.Stats }

// NumRows is the number of rows in the file.
func (r *ParquetReader) NumRows() int64 { return r.pf.NumRows() }

// Next returns the next document or io.EOF.
func (r *ParquetReader) Next() (d *Doc, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.done = true
			d, err = nil, bad(&r.opts, &RecordError{File: r.path, Row: r.row, Reason: "parquet", Err: fmt.Errorf("corrupt data: %v", p)})
			if err == nil {
				err = io.EOF
			}
		}
	}()
	for !r.done {
		if r.i < r.n {
			row := r.buf[r.i]
			r.i++
			r.row++
			d, rerr := r.doc(row, r.row-1)
			if rerr != nil {
				if err := bad(&r.opts, rerr); err != nil {
					r.done = true
					return nil, err
				}
				continue
			}
			r.opts.Stats.addDoc(d)
			return d, nil
		}
		if r.rows == nil {
			groups := r.pf.RowGroups()
			if r.rg >= len(groups) {
				r.done = true
				break
			}
			r.rows = groups[r.rg].Rows()
			r.rg++
		}
		n, err := r.rows.ReadRows(r.buf)
		r.n, r.i = n, 0
		if err == io.EOF {
			r.rows.Close()
			r.rows = nil
			if n == 0 {
				continue
			}
		} else if err != nil {
			r.done = true
			if err := bad(&r.opts, &RecordError{File: r.path, Row: r.row, Reason: "parquet", Err: err}); err != nil {
				return nil, err
			}
		}
	}
	return nil, io.EOF
}

func (r *ParquetReader) doc(row parquet.Row, idx int64) (*Doc, *RecordError) {
	d := &Doc{Meta: map[string]any{MetaSource: r.source}}
	hasText := false
	for _, v := range row {
		c := v.Column()
		switch {
		case c == r.textCol:
			if v.IsNull() {
				continue
			}
			b := v.ByteArray()
			if !utf8.Valid(b) {
				return nil, &RecordError{File: r.path, Row: idx, Reason: "utf8", Err: fmt.Errorf("row %d: text is not valid UTF-8", idx)}
			}
			d.Text, hasText = string(b), true
		case c == r.idCol:
			if !v.IsNull() {
				d.ID = valueString(v)
			}
		default:
			name, ok := r.names[c]
			if !ok || v.IsNull() {
				continue
			}
			if name == "metadata" && v.Kind() == parquet.ByteArray {
				var m map[string]any
				if json.Unmarshal(v.ByteArray(), &m) == nil {
					for k, x := range m {
						d.Meta[k] = x
					}
					continue
				}
			}
			d.Meta[name] = valueAny(v)
		}
	}
	if !hasText {
		return nil, &RecordError{File: r.path, Row: idx, Reason: "field", Err: fmt.Errorf("row %d: text column %q is null", idx, r.opts.textField())}
	}
	if d.ID == "" {
		d.ID = r.source + "/" + strconv.FormatInt(idx, 10)
	}
	return d, nil
}

func valueString(v parquet.Value) string {
	switch v.Kind() {
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return string(v.ByteArray())
	case parquet.Int32:
		return strconv.FormatInt(int64(v.Int32()), 10)
	case parquet.Int64:
		return strconv.FormatInt(v.Int64(), 10)
	}
	return v.String()
}

func valueAny(v parquet.Value) any {
	switch v.Kind() {
	case parquet.Boolean:
		return v.Boolean()
	case parquet.Int32:
		return int64(v.Int32())
	case parquet.Int64:
		return v.Int64()
	case parquet.Float:
		return float64(v.Float())
	case parquet.Double:
		return v.Double()
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return string(v.ByteArray())
	}
	return v.String()
}

// Close closes the file.
func (r *ParquetReader) Close() error {
	if r.f == nil {
		return nil
	}
	if r.rows != nil {
		r.rows.Close()
		r.rows = nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// parquetDoc is the row layout ParquetWriter writes: datatrove's column names,
// with the metadata as a JSON object in a string column.
type parquetDoc struct {
	ID       string `parquet:"id"`
	Text     string `parquet:"text"`
	Metadata string `parquet:"metadata,optional"`
}

// parquetEncoder writes docs as Parquet (zstd pages, row groups of rowGroup rows).
type parquetEncoder struct {
	w     *parquet.GenericWriter[parquetDoc]
	batch []parquetDoc
}

const parquetRowGroup = 4096

func newParquetEncoder(out io.Writer) *parquetEncoder {
	return &parquetEncoder{w: parquet.NewGenericWriter[parquetDoc](out,
		parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(parquetRowGroup))}
}

func (p *parquetEncoder) write(d *Doc) (int, error) {
	row := parquetDoc{ID: d.ID, Text: d.Text}
	if len(d.Meta) > 0 {
		b, err := json.Marshal(d.Meta)
		if err != nil {
			return 0, fmt.Errorf("doc %s: metadata: %w", d.ID, err)
		}
		row.Metadata = string(b)
	}
	p.batch = append(p.batch, row)
	if len(p.batch) >= 256 {
		if err := p.flushBatch(); err != nil {
			return 0, err
		}
	}
	return len(row.ID) + len(row.Text) + len(row.Metadata), nil
}

func (p *parquetEncoder) flushBatch() error {
	if len(p.batch) == 0 {
		return nil
	}
	_, err := p.w.Write(p.batch)
	p.batch = p.batch[:0]
	return err
}

func (p *parquetEncoder) close() error {
	if err := p.flushBatch(); err != nil {
		return err
	}
	return p.w.Close()
}
