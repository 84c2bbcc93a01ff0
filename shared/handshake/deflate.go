package handshake

import (
	"fmt"
	"strconv"
	"strings"
)

// This file holds the parameters of the permessage-deflate extension
// (RFC 7692 §7.1): reading a client's offer and a server's response, each
// with the RFC's rules, and writing them back as a header value. Which
// offer a server accepts and what it answers is the caller's choice.

// PermessageDeflate is the name of the extension in Sec-WebSocket-Extensions.
const PermessageDeflate = "permessage-deflate"

// WindowBitsNoValue is ClientMaxWindowBits for an offer that names
// client_max_window_bits without a value (RFC 7692 §7.1.2.2): the client
// tells the server that it may choose the client's window, up to 15 bits.
const WindowBitsNoValue = -1

// DeflateParams are the parameters of one permessage-deflate offer or
// response. Its zero value is the extension without parameters.
type DeflateParams struct {
	// ServerNoContextTakeover: the server compresses each message on its
	// own, without referring to the messages it sent before. In an offer,
	// the client asks for it; in a response, the server promises it.
	ServerNoContextTakeover bool

	// ClientNoContextTakeover: the same for the client. In an offer, a
	// hint that the client will do so; in a response, a demand.
	ClientNoContextTakeover bool

	// ServerMaxWindowBits is the base-2 logarithm of the largest LZ77
	// window the server may compress with, 8 to 15, or 0 if the parameter
	// is absent (which means 15). In an offer, a limit the client sets; in
	// a response, the one the server keeps to.
	ServerMaxWindowBits int

	// ClientMaxWindowBits is the same for the client: 8 to 15, or 0 if the
	// parameter is absent. Only an offer may name it without a value
	// (WindowBitsNoValue); a response may carry it only if the offer
	// named it.
	ClientMaxWindowBits int
}

// The parameter names of RFC 7692 §7.1.
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// A DeflateError says why a permessage-deflate offer or response breaks
// RFC 7692: a server declines such an offer (§5), a client fails the
// connection on such a response (§5).
type DeflateError struct {
	Param string // the parameter at fault
	Msg   string
}

func (e *DeflateError) Error() string {
	return "handshake: permessage-deflate parameter " + strconv.Quote(e.Param) + " " + e.Msg
}

// ParseDeflateOffer reads the parameters of a client's permessage-deflate
// offer. An offer with a parameter RFC 7692 does not define, a parameter
// given twice, or a value the parameter does not allow is a *DeflateError:
// the server must decline that offer (§5), and may accept another.
func ParseDeflateOffer(params []Param) (DeflateParams, error) {
	return parseDeflate(params, true)
}

// ParseDeflateResponse reads the parameters of a server's permessage-deflate
// response, with the same rules as ParseDeflateOffer except that every
// window size must have a value: a client must fail the connection on a
// response that breaks them (§5). Whether the response fits the client's
// offer is the client's to check.
func ParseDeflateResponse(params []Param) (DeflateParams, error) {
	return parseDeflate(params, false)
}

func parseDeflate(params []Param, offer bool) (DeflateParams, error) {
	var p DeflateParams
	var seen [4]bool // by the order of the cases below
	for _, param := range params {
		// Parameter names are compared as given: RFC 7692 §7.1 defines
		// them in lower case.
		var err error
		i := 0
		switch param.Name {
		case paramServerNoContextTakeover:
			err = noValue(param)
			p.ServerNoContextTakeover = true
		case paramClientNoContextTakeover:
			i = 1
			err = noValue(param)
			p.ClientNoContextTakeover = true
		case paramServerMaxWindowBits:
			i = 2
			p.ServerMaxWindowBits, err = windowBits(param, false)
		case paramClientMaxWindowBits:
			i = 3
			p.ClientMaxWindowBits, err = windowBits(param, offer)
		default:
			return DeflateParams{}, &DeflateError{param.Name, "is not defined by RFC 7692"}
		}
		if seen[i] {
			return DeflateParams{}, &DeflateError{param.Name, "is given more than once"}
		}
		seen[i] = true
		if err != nil {
			return DeflateParams{}, err
		}
	}
	return p, nil
}

func noValue(p Param) error {
	if p.Value != "" {
		return &DeflateError{p.Name, "takes no value, got " + strconv.Quote(p.Value)}
	}
	return nil
}

// windowBits reads a window size: a decimal integer from 8 to 15 without
// leading zeros (RFC 7692 §7.1.2.1), or no value at all where that is
// allowed.
func windowBits(p Param, valueOptional bool) (int, error) {
	if p.Value == "" {
		if valueOptional {
			return WindowBitsNoValue, nil
		}
		return 0, &DeflateError{p.Name, "needs a value from 8 to 15"}
	}
	switch p.Value {
	case "8", "9", "10", "11", "12", "13", "14", "15":
		n, _ := strconv.Atoi(p.Value)
		return n, nil
	}
	return 0, &DeflateError{p.Name, "has the value " + strconv.Quote(p.Value) + ", not a number from 8 to 15 without leading zeros"}
}

// String formats p as an element of a Sec-WebSocket-Extensions header:
// the extension's name followed by its parameters, such as
// "permessage-deflate; server_no_context_takeover; client_max_window_bits".
func (p DeflateParams) String() string {
	var b strings.Builder
	b.WriteString(PermessageDeflate)
	if p.ServerNoContextTakeover {
		b.WriteString("; " + paramServerNoContextTakeover)
	}
	if p.ClientNoContextTakeover {
		b.WriteString("; " + paramClientNoContextTakeover)
	}
	if p.ServerMaxWindowBits != 0 {
		fmt.Fprintf(&b, "; %s=%d", paramServerMaxWindowBits, p.ServerMaxWindowBits)
	}
	switch {
	case p.ClientMaxWindowBits == WindowBitsNoValue:
		b.WriteString("; " + paramClientMaxWindowBits)
	case p.ClientMaxWindowBits != 0:
		fmt.Fprintf(&b, "; %s=%d", paramClientMaxWindowBits, p.ClientMaxWindowBits)
	}
	return b.String()
}
