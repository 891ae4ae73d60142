package smpp

// Status is a command_status value (SMPP 3.4 §5.1.3), also used for the
// error_status_code of an unsuccessful submit_multi destination. Status
// implements error so that a session can return a failed response's
// (non-zero) status as an error and callers can test it with errors.As.
type Status uint32

// The command_status values of SMPP 3.4 §5.1.3. They keep the spec's names
// (against Go's naming habit) so that they match SMSC documentation and
// logs. Values 0x0400–0x04FF are reserved for SMSC vendor-specific errors.
const (
	ESME_ROK              Status = 0x00000000 // No Error
	ESME_RINVMSGLEN       Status = 0x00000001 // Message Length is invalid
	ESME_RINVCMDLEN       Status = 0x00000002 // Command Length is invalid
	ESME_RINVCMDID        Status = 0x00000003 // Invalid Command ID
	ESME_RINVBNDSTS       Status = 0x00000004 // Incorrect BIND Status for given command
	ESME_RALYBND          Status = 0x00000005 // ESME Already in Bound State
	ESME_RINVPRTFLG       Status = 0x00000006 // Invalid Priority Flag
	ESME_RINVREGDLVFLG    Status = 0x00000007 // Invalid Registered Delivery Flag
	ESME_RSYSERR          Status = 0x00000008 // System Error
	ESME_RINVSRCADR       Status = 0x0000000A // Invalid Source Address
	ESME_RINVDSTADR       Status = 0x0000000B // Invalid Dest Addr
	ESME_RINVMSGID        Status = 0x0000000C // Message ID is invalid
	ESME_RBINDFAIL        Status = 0x0000000D // Bind Failed
	ESME_RINVPASWD        Status = 0x0000000E // Invalid Password
	ESME_RINVSYSID        Status = 0x0000000F // Invalid System ID
	ESME_RCANCELFAIL      Status = 0x00000011 // Cancel SM Failed
	ESME_RREPLACEFAIL     Status = 0x00000013 // Replace SM Failed
	ESME_RMSGQFUL         Status = 0x00000014 // Message Queue Full
	ESME_RINVSERTYP       Status = 0x00000015 // Invalid Service Type
	ESME_RINVNUMDESTS     Status = 0x00000033 // Invalid number of destinations
	ESME_RINVDLNAME       Status = 0x00000034 // Invalid Distribution List name
	ESME_RINVDESTFLAG     Status = 0x00000040 // Destination flag is invalid (submit_multi)
	ESME_RINVSUBREP       Status = 0x00000042 // Invalid 'submit with replace' request
	ESME_RINVESMCLASS     Status = 0x00000043 // Invalid esm_class field data
	ESME_RCNTSUBDL        Status = 0x00000044 // Cannot Submit to Distribution List
	ESME_RSUBMITFAIL      Status = 0x00000045 // submit_sm or submit_multi failed
	ESME_RINVSRCTON       Status = 0x00000048 // Invalid Source address TON
	ESME_RINVSRCNPI       Status = 0x00000049 // Invalid Source address NPI
	ESME_RINVDSTTON       Status = 0x00000050 // Invalid Destination address TON
	ESME_RINVDSTNPI       Status = 0x00000051 // Invalid Destination address NPI
	ESME_RINVSYSTYP       Status = 0x00000053 // Invalid system_type field
	ESME_RINVREPFLAG      Status = 0x00000054 // Invalid replace_if_present flag
	ESME_RINVNUMMSGS      Status = 0x00000055 // Invalid number of messages
	ESME_RTHROTTLED       Status = 0x00000058 // Throttling error (ESME has exceeded allowed message limits)
	ESME_RINVSCHED        Status = 0x00000061 // Invalid Scheduled Delivery Time
	ESME_RINVEXPIRY       Status = 0x00000062 // Invalid message validity period (Expiry time)
	ESME_RINVDFTMSGID     Status = 0x00000063 // Predefined Message Invalid or Not Found
	ESME_RX_T_APPN        Status = 0x00000064 // ESME Receiver Temporary App Error Code
	ESME_RX_P_APPN        Status = 0x00000065 // ESME Receiver Permanent App Error Code
	ESME_RX_R_APPN        Status = 0x00000066 // ESME Receiver Reject Message Error Code
	ESME_RQUERYFAIL       Status = 0x00000067 // query_sm request failed
	ESME_RINVOPTPARSTREAM Status = 0x000000C0 // Error in the optional part of the PDU Body
	ESME_ROPTPARNOTALLWD  Status = 0x000000C1 // Optional Parameter not allowed
	ESME_RINVPARLEN       Status = 0x000000C2 // Invalid Parameter Length
	ESME_RMISSINGOPTPARAM Status = 0x000000C3 // Expected Optional Parameter missing
	ESME_RINVOPTPARAMVAL  Status = 0x000000C4 // Invalid Optional Parameter Value
	ESME_RDELIVERYFAILURE Status = 0x000000FE // Delivery Failure (used for data_sm_resp)
	ESME_RUNKNOWNERR      Status = 0x000000FF // Unknown Error
)

type statusInfo struct{ name, desc string }

var statusTable = map[Status]statusInfo{
	ESME_ROK:              {"ESME_ROK", "No Error"},
	ESME_RINVMSGLEN:       {"ESME_RINVMSGLEN", "Message Length is invalid"},
	ESME_RINVCMDLEN:       {"ESME_RINVCMDLEN", "Command Length is invalid"},
	ESME_RINVCMDID:        {"ESME_RINVCMDID", "Invalid Command ID"},
	ESME_RINVBNDSTS:       {"ESME_RINVBNDSTS", "Incorrect BIND Status for given command"},
	ESME_RALYBND:          {"ESME_RALYBND", "ESME Already in Bound State"},
	ESME_RINVPRTFLG:       {"ESME_RINVPRTFLG", "Invalid Priority Flag"},
	ESME_RINVREGDLVFLG:    {"ESME_RINVREGDLVFLG", "Invalid Registered Delivery Flag"},
	ESME_RSYSERR:          {"ESME_RSYSERR", "System Error"},
	ESME_RINVSRCADR:       {"ESME_RINVSRCADR", "Invalid Source Address"},
	ESME_RINVDSTADR:       {"ESME_RINVDSTADR", "Invalid Dest Addr"},
	ESME_RINVMSGID:        {"ESME_RINVMSGID", "Message ID is invalid"},
	ESME_RBINDFAIL:        {"ESME_RBINDFAIL", "Bind Failed"},
	ESME_RINVPASWD:        {"ESME_RINVPASWD", "Invalid Password"},
	ESME_RINVSYSID:        {"ESME_RINVSYSID", "Invalid System ID"},
	ESME_RCANCELFAIL:      {"ESME_RCANCELFAIL", "Cancel SM Failed"},
	ESME_RREPLACEFAIL:     {"ESME_RREPLACEFAIL", "Replace SM Failed"},
	ESME_RMSGQFUL:         {"ESME_RMSGQFUL", "Message Queue Full"},
	ESME_RINVSERTYP:       {"ESME_RINVSERTYP", "Invalid Service Type"},
	ESME_RINVNUMDESTS:     {"ESME_RINVNUMDESTS", "Invalid number of destinations"},
	ESME_RINVDLNAME:       {"ESME_RINVDLNAME", "Invalid Distribution List name"},
	ESME_RINVDESTFLAG:     {"ESME_RINVDESTFLAG", "Destination flag is invalid (submit_multi)"},
	ESME_RINVSUBREP:       {"ESME_RINVSUBREP", "Invalid 'submit with replace' request"},
	ESME_RINVESMCLASS:     {"ESME_RINVESMCLASS", "Invalid esm_class field data"},
	ESME_RCNTSUBDL:        {"ESME_RCNTSUBDL", "Cannot Submit to Distribution List"},
	ESME_RSUBMITFAIL:      {"ESME_RSUBMITFAIL", "submit_sm or submit_multi failed"},
	ESME_RINVSRCTON:       {"ESME_RINVSRCTON", "Invalid Source address TON"},
	ESME_RINVSRCNPI:       {"ESME_RINVSRCNPI", "Invalid Source address NPI"},
	ESME_RINVDSTTON:       {"ESME_RINVDSTTON", "Invalid Destination address TON"},
	ESME_RINVDSTNPI:       {"ESME_RINVDSTNPI", "Invalid Destination address NPI"},
	ESME_RINVSYSTYP:       {"ESME_RINVSYSTYP", "Invalid system_type field"},
	ESME_RINVREPFLAG:      {"ESME_RINVREPFLAG", "Invalid replace_if_present flag"},
	ESME_RINVNUMMSGS:      {"ESME_RINVNUMMSGS", "Invalid number of messages"},
	ESME_RTHROTTLED:       {"ESME_RTHROTTLED", "Throttling error (ESME has exceeded allowed message limits)"},
	ESME_RINVSCHED:        {"ESME_RINVSCHED", "Invalid Scheduled Delivery Time"},
	ESME_RINVEXPIRY:       {"ESME_RINVEXPIRY", "Invalid message validity period (Expiry time)"},
	ESME_RINVDFTMSGID:     {"ESME_RINVDFTMSGID", "Predefined Message Invalid or Not Found"},
	ESME_RX_T_APPN:        {"ESME_RX_T_APPN", "ESME Receiver Temporary App Error Code"},
	ESME_RX_P_APPN:        {"ESME_RX_P_APPN", "ESME Receiver Permanent App Error Code"},
	ESME_RX_R_APPN:        {"ESME_RX_R_APPN", "ESME Receiver Reject Message Error Code"},
	ESME_RQUERYFAIL:       {"ESME_RQUERYFAIL", "query_sm request failed"},
	ESME_RINVOPTPARSTREAM: {"ESME_RINVOPTPARSTREAM", "Error in the optional part of the PDU Body"},
	ESME_ROPTPARNOTALLWD:  {"ESME_ROPTPARNOTALLWD", "Optional Parameter not allowed"},
	ESME_RINVPARLEN:       {"ESME_RINVPARLEN", "Invalid Parameter Length"},
	ESME_RMISSINGOPTPARAM: {"ESME_RMISSINGOPTPARAM", "Expected Optional Parameter missing"},
	ESME_RINVOPTPARAMVAL:  {"ESME_RINVOPTPARAMVAL", "Invalid Optional Parameter Value"},
	ESME_RDELIVERYFAILURE: {"ESME_RDELIVERYFAILURE", "Delivery Failure"},
	ESME_RUNKNOWNERR:      {"ESME_RUNKNOWNERR", "Unknown Error"},
}

// String returns the spec name of the status, such as "ESME_RTHROTTLED".
// Other values are shown as "ESME_VENDOR(0x00000401)" in the vendor-specific
// range 0x0400–0x04FF and "command_status(0x00000009)" elsewhere.
func (s Status) String() string {
	if i, ok := statusTable[s]; ok {
		return i.name
	}
	if s.VendorSpecific() {
		return "ESME_VENDOR(0x" + hex8(uint32(s)) + ")"
	}
	return "command_status(0x" + hex8(uint32(s)) + ")"
}

// Description returns the spec's description of the status, such as
// "Message Queue Full", or "" for a value the spec does not define.
func (s Status) Description() string { return statusTable[s].desc }

// Error implements error. It returns the same as String, so that fmt
// shows a Status by its spec name whether or not it is used as an error;
// Description gives the longer text.
func (s Status) Error() string { return s.String() }

// Known reports whether s is one of the statuses defined by SMPP 3.4.
func (s Status) Known() bool {
	_, ok := statusTable[s]
	return ok
}

// VendorSpecific reports whether s is in the range 0x0400–0x04FF that
// SMPP 3.4 reserves for SMSC vendor-specific errors. Their meaning is
// defined by each SMSC's documentation.
func (s Status) VendorSpecific() bool { return s >= 0x0400 && s <= 0x04FF }

// Temporary reports whether a request that failed with status s may
// succeed if sent again later, unchanged, on the same or another bind:
//
//   - ESME_RTHROTTLED (0x58) and ESME_RMSGQFUL (0x14): the SMSC is
//     pushing back. Retry after a delay and lower the send rate.
//   - ESME_RX_T_APPN (0x64): the receiving application reports a
//     temporary error, by the spec's definition of the code.
//   - ESME_RSYSERR (0x08): the SMSC's generic internal failure. In
//     practice SMSCs return it for passing faults (a database or routing
//     back end that is down or timed out), so a bounded number of retries
//     with backoff is cheaper than failing the message. Some SMSCs also
//     use it for permanent conditions, which is why retries must be capped.
//
// Everything else, including ESME_ROK, is false. In particular
// ESME_RINVBNDSTS (0x04) is not a property of the message but of the
// session (the bind is in the wrong state): the session should re-bind and
// may then resend. ESME_RUNKNOWNERR and vendor-specific codes are false; a
// connector that knows an SMSC's vendor codes can override this.
func (s Status) Temporary() bool {
	switch s {
	case ESME_RTHROTTLED, ESME_RMSGQFUL, ESME_RX_T_APPN, ESME_RSYSERR:
		return true
	}
	return false
}
