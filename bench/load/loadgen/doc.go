// Package loadgen generates HTTP load against an SMS gateway and measures
// what it does with it: accepted recipients per second, request latency
// percentiles, errors by kind, and — through status reports sent back to a
// receiver it runs on loopback — the time from each request to its
// recipient's delivery, and which accepted recipients were never
// delivered.
//
// The command bench/load is its command-line face; bench/kannel uses it to
// drive omnigate and Kannel with the same load.
//
// # Targets
//
// A Target turns a message into a request and reads the answer and the
// status reports. Omnigate posts to the MessageBird-compatible REST API
// (POST /messages, with a reportUrl); Kannel calls smsbox's send-SMS
// interface (GET /cgi-bin/sendsms, with dlr-mask and a dlr-url). Each
// request carries a run-unique id (rid) in its report URL, so a report is
// matched to its request and recipient whatever the system's own ids are.
//
// # Open and closed loop
//
// With Config.Rate set, request i is due at start + i/Rate and its latency
// is measured from that due time, however late it is actually sent: when
// the system falls behind, the queue of late requests shows up as latency
// rather than as a slower load (the "coordinated omission" that a
// closed-loop client has). With Rate 0, Concurrency workers send back to
// back, which finds the most a system can take.
//
// # Histograms
//
// Latencies go into a Histogram: log-linear buckets as in HdrHistogram,
// 128 per power of two, so percentiles are exact to within 0.8 % from a
// nanosecond to hours in a fixed 40 KiB. Results show p50, p90, p99, p99.9
// and the maximum, never only an average.
//
// # Using it
//
//	res, err := loadgen.Run(ctx, loadgen.Config{
//		Target:        &loadgen.Omnigate{BaseURL: "http://127.0.0.1:8080", Key: key},
//		Rate:          500,
//		Duration:      20 * time.Second,
//		Concurrency:   64,
//		TrackDelivery: true,
//		Verify:        true,
//	})
//	if err != nil { … }
//	res.PrintTable(os.Stdout)
//	res.WriteJSON("result.json")
//	res.WriteSVG("result.svg")
package loadgen
