package app

import (
	"net/http"

	"github.com/omnigate/omnigate/internal/connectors"
)

// providerHooks is the door-like part of the API server that takes
// providers' webhooks for connectors that receive over HTTP (the whatsapp
// kind): /webhooks/whatsapp/{connector} hands the request to the running
// connector of that name when it serves HTTP (channel connectors that
// implement http.Handler). The app mounts it beside the doors, so that no
// door imports a channel package.
type providerHooks struct {
	connectors *connectors.Manager
}

// Register implements api.Door.
func (p providerHooks) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /webhooks/whatsapp/{connector}", p.serve)
	mux.HandleFunc("POST /webhooks/whatsapp/{connector}", p.serve)
}

func (p providerHooks) serve(w http.ResponseWriter, r *http.Request) {
	c, ok := p.connectors.Connector(r.PathValue("connector"))
	h, isHandler := c.(http.Handler)
	if !ok || !isHandler || c.Channel() != "whatsapp" {
		http.Error(w, "no such webhook", http.StatusNotFound)
		return
	}
	h.ServeHTTP(w, r)
}
