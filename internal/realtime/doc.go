// Package realtime is omnigate's Pusher Channels-compatible server: the
// WebSocket protocol 7 that pusher-js and Laravel Echo speak, the HTTP API
// that the Pusher server SDKs call, Pusher-signed webhooks, per-app limits
// with usage alerts, an error log, and a cluster of nodes over NATS.
//
// # Running it
//
// A Server needs a store (apps, daily usage, error log) and, for several
// nodes, a broker:
//
//	broker, _ := fanout.NewNATS(fanout.NATSConfig{URL: "nats://127.0.0.1:4222"})
//	srv, err := realtime.New(realtime.Config{}, realtime.Deps{
//		Store:    st,       // *sqlstore.Store implements store.Realtime
//		Broker:   broker,   // nil: a single node
//		Notifier: notifier, // usage alerts; nil: logged only
//		Logger:   log,
//	})
//	srv.Register(mux)         // GET /app/{key}, /apps/{app_id}/…
//	err = srv.Start(ctx)
//	…
//	err = srv.Stop(ctx)       // closes clients with 4200, flushes webhooks
//
// Apps are made with CreateApp (fresh id, key and secret) and their secret
// rotated with RotateSecret, which keeps the old one valid for a grace
// period.
//
// # How a message travels
//
// An event published through the API (or a client event) is encoded once,
// queued on every local subscriber's bounded outbox, and published once to
// the broker on the channel's subject; the other nodes that have
// subscribers deliver it to theirs. A client that does not read fast enough
// to keep its outbox under SendQueueFrames/SendQueueBytes is disconnected
// with 4100 instead of slowing anyone down.
//
// Presence and channel occupancy are kept in a view of the cluster that
// every node maintains from the others' state messages (see cluster.go);
// member_added/member_removed reach every subscriber once, and the oldest
// node sends the channel and presence webhooks.
package realtime
