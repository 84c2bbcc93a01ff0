package streamclient

import (
	"context"
	"io"
	"strconv"
)

// A Doer makes the transport's HTTP requests.
type Doer interface {
	// Do sends req and returns its response as soon as the headers have
	// arrived; the body streams. ctx bounds the whole exchange, body
	// included: once it ends, reading the body fails. A status other than
	// 2xx is a response, not an error.
	Do(ctx context.Context, req *Request) (*Response, error)

	// Send starts req and returns at once, without waiting for its
	// response: the last word of a connection, which must leave even if
	// the program — in a browser, the page — is ending.
	Send(req *Request)
}

// A Request is one request of the transport.
type Request struct {
	Method  string // "GET" or "POST"
	URL     string // absolute, with its query
	Session string // the Duplex-Session header; "" on the request that opens the session
	Body    []byte // nil for none; the Doer may keep it, and must not change it
}

// A Response is the answer to a Request.
type Response struct {
	Status int
	Body   io.ReadCloser // the stream, or the one-line reason of an error
}

// A StatusError is a request the server refused: its status and the
// one-line reason it gave.
type StatusError struct {
	Status int
	Reason string
}

func (e *StatusError) Error() string {
	return "http stream: the server answered " + strconv.Itoa(e.Status) + ": " + e.Reason
}

// maxReason bounds the reason read from an error's body.
const maxReason = 512

// refusal reads the reason of a response with an error status, and closes
// its body.
func refusal(resp *Response) *StatusError {
	defer resp.Body.Close()
	b := make([]byte, 0, maxReason)
	for len(b) < cap(b) {
		n, err := resp.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			break
		}
	}
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return &StatusError{Status: resp.Status, Reason: string(b)}
}

// withQuery returns url with the query parameters of pairs (name, value,
// name, value…) added.
func withQuery(url string, pairs ...string) string {
	b := []byte(url)
	sep := byte('?')
	for i := 0; i < len(url); i++ {
		if url[i] == '?' {
			sep = '&'
			break
		}
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		b = append(b, sep)
		b = appendEscaped(b, pairs[i])
		b = append(b, '=')
		b = appendEscaped(b, pairs[i+1])
		sep = '&'
	}
	return string(b)
}

// appendEscaped appends s percent-encoded for a query, all but the
// unreserved characters of RFC 3986 escaped.
func appendEscaped(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			dst = append(dst, c)
		default:
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		}
	}
	return dst
}
