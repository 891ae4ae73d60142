package subscriptions

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"time"
)

// Export is the account's data as a zip: per table a JSON file (an array
// of objects) and a CSV file, and export.json saying what it holds. It is
// what is offered before a deletion and what the deletion archives.
// Secrets (key and password hashes, credentials) are left out; message
// bodies and consent evidence are decrypted.
func (s *Service) Export(ctx context.Context, accountID string) ([]byte, error) {
	if _, err := s.cfg.Store.GetAccount(ctx, accountID); err != nil {
		return nil, err
	}
	tables, err := s.cfg.Store.AccountExport(ctx, accountID)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	records := map[string]int{}
	for _, t := range tables {
		records[t.Name] = len(t.Rows)
		objs := make([]map[string]string, len(t.Rows))
		for i, row := range t.Rows {
			o := make(map[string]string, len(row))
			for j, c := range t.Columns {
				o[c] = row[j]
			}
			objs[i] = o
		}
		if err := writeJSON(zw, t.Name+".json", objs); err != nil {
			return nil, err
		}
		w, err := zw.Create(t.Name + ".csv")
		if err != nil {
			return nil, err
		}
		cw := csv.NewWriter(w)
		cw.Write(t.Columns)
		cw.WriteAll(t.Rows)
		if err := cw.Error(); err != nil {
			return nil, err
		}
	}
	if err := writeJSON(zw, "export.json", map[string]any{"account": accountID, "exportedAt": s.now().Format(time.RFC3339),
		"records": records}); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeJSON(zw *zip.Writer, name string, v any) error {
	w, err := zw.Create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func addStep(list, step string) string {
	if list == "" {
		return step
	}
	return list + "," + step
}
