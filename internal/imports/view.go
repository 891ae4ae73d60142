package imports

import (
	"encoding/json"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// View is an import as the APIs show it.
type View struct {
	ID         string          `json:"id"`
	Kind       string          `json:"kind"`
	State      string          `json:"state"`
	Params     json.RawMessage `json:"params"`
	Origin     string          `json:"origin,omitempty"`
	Size       int64           `json:"size"`
	BytesRead  int64           `json:"bytesRead"`
	RowsRead   int64           `json:"rowsRead"`
	Imported   int64           `json:"imported"`
	ErrorCount int64           `json:"errorCount"`
	Errors     []string        `json:"errors"`
	CreatedAt  time.Time       `json:"createdAt"`
	UpdatedAt  time.Time       `json:"updatedAt"`
	FinishedAt *time.Time      `json:"finishedAt"`
}

// ViewOf is im as the APIs show it.
func ViewOf(im *store.Import) View {
	v := View{ID: im.ID, Kind: im.Kind, State: im.State, Params: json.RawMessage(im.Params), Origin: im.Origin, Size: im.Size,
		BytesRead: im.BytesRead, RowsRead: im.RowsRead, Imported: im.Imported, ErrorCount: im.ErrorCount, Errors: im.Errors,
		CreatedAt: im.CreatedAt, UpdatedAt: im.UpdatedAt}
	if v.Errors == nil {
		v.Errors = []string{}
	}
	if !json.Valid(v.Params) {
		v.Params = json.RawMessage("{}")
	}
	if !im.FinishedAt.IsZero() {
		t := im.FinishedAt
		v.FinishedAt = &t
	}
	return v
}
