package httpstream

import "net/http"

// HeaderForwarded marks a request that a Forwarder has passed on: the
// instance that receives it serves it itself, and never passes it on
// again.
const HeaderForwarded = "Duplex-Forwarded"

// A Forwarder passes requests between the instances of a server, so that a
// load balancer need not send a session's requests to the instance that
// opened it (no sticky sessions). Each session's id names the instance
// that owns it; a request that reaches another instance is passed to the
// owner, whose answer — for a stream, as it streams — is relayed back.
//
// duplex/server/httpstream/natsforward implements it over NATS
// request/reply.
type Forwarder interface {
	// Instance names this instance, for the ids of the sessions it opens:
	// a name that ValidInstance accepts, unique among the instances.
	Instance() string

	// Forward serves r, a request for a session owned by instance, by
	// passing it to that instance and relaying the answer to w. The owner
	// must receive it with HeaderForwarded set.
	Forward(w http.ResponseWriter, r *http.Request, instance string)
}
