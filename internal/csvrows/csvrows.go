// Package csvrows reads the CSV files operators and customers import
// (price lists, consents): a header row naming the columns in any order,
// then one record per row, reported by line number when bad.
package csvrows

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// Headed reads the header row of r and returns the reader, positioned at
// the first record (line 2), and each column's index by lower-case name.
// A required column that is missing is an error naming it and want (the
// columns the file should have, for the reader of the message).
func Headed(r io.Reader, want string, required ...string) (*csv.Reader, map[string]int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
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
