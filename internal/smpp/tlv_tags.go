package smpp

import "strconv"

// Tag is the tag of an optional parameter (TLV), SMPP 3.4 §5.3.
type Tag uint16

// The optional parameter tags of SMPP 3.4 §5.3.2. Tags 0x1400–0x3FFF are
// reserved for SMSC vendor-specific parameters; [TLVs] keeps those, and any
// other unknown tag, as they are.
const (
	TagDestAddrSubunit          Tag = 0x0005 // 1 octet
	TagDestNetworkType          Tag = 0x0006 // 1 octet
	TagDestBearerType           Tag = 0x0007 // 1 octet
	TagDestTelematicsID         Tag = 0x0008 // 2 octets
	TagSourceAddrSubunit        Tag = 0x000D // 1 octet
	TagSourceNetworkType        Tag = 0x000E // 1 octet
	TagSourceBearerType         Tag = 0x000F // 1 octet
	TagSourceTelematicsID       Tag = 0x0010 // 1 octet (2 accepted)
	TagQosTimeToLive            Tag = 0x0017 // 4 octets
	TagPayloadType              Tag = 0x0019 // 1 octet
	TagAdditionalStatusInfoText Tag = 0x001D // C-octet string, at most 256 octets
	TagReceiptedMessageID       Tag = 0x001E // C-octet string, at most 65 octets
	TagMsMsgWaitFacilities      Tag = 0x0030 // 1 octet
	TagPrivacyIndicator         Tag = 0x0201 // 1 octet
	TagSourceSubaddress         Tag = 0x0202 // 2–23 octets
	TagDestSubaddress           Tag = 0x0203 // 2–23 octets
	TagUserMessageReference     Tag = 0x0204 // 2 octets
	TagUserResponseCode         Tag = 0x0205 // 1 octet
	TagSourcePort               Tag = 0x020A // 2 octets
	TagDestinationPort          Tag = 0x020B // 2 octets
	TagSarMsgRefNum             Tag = 0x020C // 2 octets
	TagLanguageIndicator        Tag = 0x020D // 1 octet
	TagSarTotalSegments         Tag = 0x020E // 1 octet
	TagSarSegmentSeqnum         Tag = 0x020F // 1 octet
	TagScInterfaceVersion       Tag = 0x0210 // 1 octet
	TagCallbackNumPresInd       Tag = 0x0302 // 1 octet
	TagCallbackNumAtag          Tag = 0x0303 // at most 65 octets
	TagNumberOfMessages         Tag = 0x0304 // 1 octet
	TagCallbackNum              Tag = 0x0381 // 4–19 octets
	TagDpfResult                Tag = 0x0420 // 1 octet
	TagSetDpf                   Tag = 0x0421 // 1 octet
	TagMsAvailabilityStatus     Tag = 0x0422 // 1 octet
	TagNetworkErrorCode         Tag = 0x0423 // 3 octets
	TagMessagePayload           Tag = 0x0424 // any length
	TagDeliveryFailureReason    Tag = 0x0425 // 1 octet
	TagMoreMessagesToSend       Tag = 0x0426 // 1 octet
	TagMessageState             Tag = 0x0427 // 1 octet
	TagUssdServiceOp            Tag = 0x0501 // 1 octet
	TagDisplayTime              Tag = 0x1201 // 1 octet
	TagSmsSignal                Tag = 0x1203 // 2 octets
	TagMsValidity               Tag = 0x1204 // 1 octet (4 accepted, SMPP 5.0)
	TagAlertOnMessageDelivery   Tag = 0x130C // 0 octets (1 accepted, SMPP 5.0)
	TagItsReplyType             Tag = 0x1380 // 1 octet
	TagItsSessionInfo           Tag = 0x1383 // 2 octets
)

// tagInfo describes a known tag: its spec name and the allowed value
// lengths, min to max inclusive. For C-octet strings max includes the NUL.
type tagInfo struct {
	name     string
	min, max int
}

// anyLen is the max of a tag whose value may have any length.
const anyLen = 0xFFFF

var tagTable = map[Tag]tagInfo{
	TagDestAddrSubunit:          {"dest_addr_subunit", 1, 1},
	TagDestNetworkType:          {"dest_network_type", 1, 1},
	TagDestBearerType:           {"dest_bearer_type", 1, 1},
	TagDestTelematicsID:         {"dest_telematics_id", 2, 2},
	TagSourceAddrSubunit:        {"source_addr_subunit", 1, 1},
	TagSourceNetworkType:        {"source_network_type", 1, 1},
	TagSourceBearerType:         {"source_bearer_type", 1, 1},
	TagSourceTelematicsID:       {"source_telematics_id", 1, 2},
	TagQosTimeToLive:            {"qos_time_to_live", 4, 4},
	TagPayloadType:              {"payload_type", 1, 1},
	TagAdditionalStatusInfoText: {"additional_status_info_text", 0, 256},
	TagReceiptedMessageID:       {"receipted_message_id", 0, 65},
	TagMsMsgWaitFacilities:      {"ms_msg_wait_facilities", 1, 1},
	TagPrivacyIndicator:         {"privacy_indicator", 1, 1},
	TagSourceSubaddress:         {"source_subaddress", 2, 23},
	TagDestSubaddress:           {"dest_subaddress", 2, 23},
	TagUserMessageReference:     {"user_message_reference", 2, 2},
	TagUserResponseCode:         {"user_response_code", 1, 1},
	TagSourcePort:               {"source_port", 2, 2},
	TagDestinationPort:          {"destination_port", 2, 2},
	TagSarMsgRefNum:             {"sar_msg_ref_num", 2, 2},
	TagLanguageIndicator:        {"language_indicator", 1, 1},
	TagSarTotalSegments:         {"sar_total_segments", 1, 1},
	TagSarSegmentSeqnum:         {"sar_segment_seqnum", 1, 1},
	TagScInterfaceVersion:       {"sc_interface_version", 1, 1},
	TagCallbackNumPresInd:       {"callback_num_pres_ind", 1, 1},
	TagCallbackNumAtag:          {"callback_num_atag", 0, 65},
	TagNumberOfMessages:         {"number_of_messages", 1, 1},
	TagCallbackNum:              {"callback_num", 4, 19},
	TagDpfResult:                {"dpf_result", 1, 1},
	TagSetDpf:                   {"set_dpf", 1, 1},
	TagMsAvailabilityStatus:     {"ms_availability_status", 1, 1},
	TagNetworkErrorCode:         {"network_error_code", 3, 3},
	TagMessagePayload:           {"message_payload", 0, anyLen},
	TagDeliveryFailureReason:    {"delivery_failure_reason", 1, 1},
	TagMoreMessagesToSend:       {"more_messages_to_send", 1, 1},
	TagMessageState:             {"message_state", 1, 1},
	TagUssdServiceOp:            {"ussd_service_op", 1, 1},
	TagDisplayTime:              {"display_time", 1, 1},
	TagSmsSignal:                {"sms_signal", 2, 2},
	TagMsValidity:               {"ms_validity", 1, 4},
	TagAlertOnMessageDelivery:   {"alert_on_message_delivery", 0, 1},
	TagItsReplyType:             {"its_reply_type", 1, 1},
	TagItsSessionInfo:           {"its_session_info", 2, 2},
}

// String returns the spec name of the tag, such as "message_state", or
// "tag(0x1401)" for a tag this package does not know.
func (t Tag) String() string {
	if i, ok := tagTable[t]; ok {
		return i.name
	}
	return "tag(0x" + hex8(uint32(t))[4:] + ")"
}

// Known reports whether t is one of the SMPP 3.4 tags above.
func (t Tag) Known() bool {
	_, ok := tagTable[t]
	return ok
}

// checkTLV checks the value length of a known tag. Unknown tags may have
// any value up to 65535 octets.
func checkTLV(t Tag, v []byte) *fieldError {
	if len(v) > anyLen {
		return &fieldError{ESME_RINVPARLEN, "TLV " + t.String() + " value of " + strconv.Itoa(len(v)) + " octets is longer than 65535"}
	}
	info, ok := tagLens(t)
	if !ok || (len(v) >= info.min && len(v) <= info.max) {
		return nil
	}
	want := strconv.Itoa(info.min)
	if info.max != info.min {
		want += "-" + strconv.Itoa(info.max)
	}
	return &fieldError{ESME_RINVPARLEN, "TLV " + t.String() + " has length " + strconv.Itoa(len(v)) + ", want " + want}
}

// tagLens returns the allowed lengths of a known tag. The common tags are
// switched on directly to keep the map off the hot path.
func tagLens(t Tag) (tagInfo, bool) {
	switch t {
	case TagMessageState, TagSarTotalSegments, TagSarSegmentSeqnum, TagScInterfaceVersion, TagPayloadType:
		return tagInfo{min: 1, max: 1}, true
	case TagSarMsgRefNum, TagUserMessageReference, TagSourcePort, TagDestinationPort:
		return tagInfo{min: 2, max: 2}, true
	case TagNetworkErrorCode:
		return tagInfo{min: 3, max: 3}, true
	case TagReceiptedMessageID:
		return tagInfo{min: 0, max: 65}, true
	case TagMessagePayload:
		return tagInfo{min: 0, max: anyLen}, true
	}
	info, ok := tagTable[t]
	return info, ok
}
