package storetest

// realtimeBehaviours cover the realtime (Pusher) apps and error log.
var realtimeBehaviours = []behaviour{}
