package realtime

// Code is a Pusher protocol error or WebSocket close code. Its range tells
// clients what to do (pusher-js acts on it):
//
//	4000–4099  the connection is refused: do not reconnect unchanged
//	4100–4199  reconnect after backing off (at least 1 s)
//	4200–4299  reconnect at once
//	4300–4399  other errors (sent as pusher:error; the connection stays)
//	1003, 1009 WebSocket codes: unsupported (binary) data, message too big
type Code int

// The codes this server sends.
const (
	CodeUnknownApp          Code = 4001 // no app with this key
	CodeAppDisabled         Code = 4003 // the app is disabled
	CodeOverConnectionQuota Code = 4004 // the app is at its connection limit
	CodeUnsupportedProtocol Code = 4007 // protocol version not supported
	CodeNoProtocol          Code = 4008 // no protocol version given
	CodeUnauthorized        Code = 4009 // sign-in refused, or terminated by the app
	CodeOverCapacity        Code = 4100 // node full, or the client reads too slowly
	CodeReconnect           Code = 4200 // the node is shutting down: reconnect
	CodePongNotReceived     Code = 4201 // no pong to the server's ping
	CodeClientEventRejected Code = 4301 // client event over the rate limit
	// CodeInvalidFilter and CodeInvalidDelta are in extensions.go.
	CodeUnsupportedData Code = 1003 // a binary frame
	CodeMessageTooBig   Code = 1009 // a frame over MaxFrameBytes
)

// ErrorInfo describes one client-visible error of the catalogue.
type ErrorInfo struct {
	Code    Code
	Message string // sent in pusher:error and as the close reason
	Close   bool   // the connection is closed with Code after the message
}

// Errors is the catalogue of connection-level errors, in code order.
var Errors = []ErrorInfo{
	{CodeUnsupportedData, "Binary frames are not supported: send JSON text", true},
	{CodeMessageTooBig, "Message too big", true},
	{CodeUnknownApp, "Application does not exist", true},
	{CodeAppDisabled, "Application is disabled", true},
	{CodeOverConnectionQuota, "Application is over its connection quota", true},
	{CodeUnsupportedProtocol, "Unsupported protocol version", true},
	{CodeNoProtocol, "No protocol version supplied", true},
	{CodeUnauthorized, "Unauthorized", true},
	{CodeOverCapacity, "Over capacity", true},
	{CodeReconnect, "Server shutting down: reconnect", true},
	{CodePongNotReceived, "Pong reply not received", true},
	{CodeClientEventRejected, "Client event rejected due to rate limit", false},
	{CodeInvalidFilter, "Invalid tag filter in pusher:subscribe", false},
	{CodeInvalidDelta, "Invalid delta compression request", false},
}

// info is the catalogue entry of a code.
func (c Code) info() ErrorInfo {
	for _, e := range Errors {
		if e.Code == c {
			return e
		}
	}
	return ErrorInfo{Code: c, Message: "Error", Close: true}
}
