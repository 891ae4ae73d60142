// Package csvrows reads the CSV files operators and customers import
// (price lists, consents, do-not-disturb registries): one record per row,
// each bad row reported by its line number, every bad row at once.
package csvrows

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// newReader reads records of any length, leading spaces trimmed.
func newReader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	return cr
}

// headed reads the header row of r and returns the reader, positioned at
// the first record (line 2), and each column's index by lower-case name.
// A required column that is missing is an error naming it and want (the
// columns the file should have, for the reader of the message).
func headed(r io.Reader, want string, required ...string) (*csv.Reader, map[string]int, error) {
	cr := newReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the header row: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range required {
		if _, ok := col[need]; !ok {
			return nil, nil, fmt.Errorf("the header row has no %q column (want %s)", need, want)
		}
	}
	return cr, col, nil
}

// Each reads a file with a header row (see headed) and calls row for each
// record after it, with its line number and its fields by column name
// (trimmed; "" for a column the file or the record lacks). It returns the
// bad rows — unreadable, or refused by row — as "line N: why", none if
// every row was good; err is for a file without a usable header row.
func Each(r io.Reader, want string, required []string, row func(line int, get func(column string) string) error) (bad []string, err error) {
	err = StreamHeaded(r, want, required, row, func(s string) { bad = append(bad, s) })
	return bad, err
}

// Rows reads a file without a required header row and calls row with each
// record and its line number, from 1. It returns the bad rows as Each
// does.
func Rows(r io.Reader, row func(line int, rec []string) error) (bad []string) {
	return rows(newReader(r), 1, row)
}

// rows reads what is left of cr, the next record being on line first.
func rows(cr *csv.Reader, first int, row func(line int, rec []string) error) (bad []string) {
	each(cr, first, row, func(s string) { bad = append(bad, s) })
	return bad
}

// each reads what is left of cr as rows does, passing each bad row to bad.
// A failure to read (not a malformed record) is the last bad row.
func each(cr *csv.Reader, first int, row func(line int, rec []string) error, bad func(string)) {
	var pe *csv.ParseError
	for line := first; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil && !errors.As(err, &pe) {
			bad(fmt.Sprintf("line %d: %v", line, err))
			return
		}
		if err == nil {
			err = row(line, rec)
		}
		if err != nil {
			bad(fmt.Sprintf("line %d: %v", line, err))
		}
	}
}

// Stream reads a file without a required header row, as Rows does, and
// calls bad with each bad row ("line N: why") as it comes: it holds one
// record at a time, whatever the file's size.
func Stream(r io.Reader, row func(line int, rec []string) error, bad func(string)) {
	cr := newReader(r)
	cr.ReuseRecord = true
	each(cr, 1, row, bad)
}

// StreamHeaded reads a file with a header row, as Each does, and calls
// bad with each bad row as it comes, holding one record at a time
// whatever the file's size. err is for a file without a usable header
// row.
func StreamHeaded(r io.Reader, want string, required []string, row func(line int, get func(column string) string) error, bad func(string)) error {
	cr, col, err := headed(r, want, required...)
	if err != nil {
		return err
	}
	cr.ReuseRecord = true
	each(cr, 2, func(line int, rec []string) error {
		return row(line, func(column string) string {
			if i, ok := col[column]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		})
	}, bad)
	return nil
}
