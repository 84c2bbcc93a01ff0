package web

import (
	"io"
	"net/http"
	"strconv"

	"github.com/VictoriaMetrics/metrics"

	"duplex/server/httpstream"
	"duplex/server/ws"
)

// Metrics is the site's /metrics: what the server counts, in the
// Prometheus text format, through github.com/VictoriaMetrics/metrics, a
// library without dependencies of its own that writes that format. Each
// site has its own set, so tests and several sites in one process do not
// share counters.
type Metrics struct {
	set *metrics.Set
}

// NewMetrics returns an empty set of metrics.
func NewMetrics() *Metrics { return &Metrics{set: metrics.NewSet()} }

// Set returns the underlying set, where a demo adds its own counters,
// gauges and histograms; names start with "duplex_".
func (m *Metrics) Set() *metrics.Set { return m.set }

// Endpoint publishes the counters of a WebSocket endpoint's Upgrader,
// labelled endpoint="name": open connections, handshakes by status,
// messages and bytes each way, and close codes sent and received.
func (m *Metrics) Endpoint(name string, s *ws.Stats) {
	label := `{endpoint="` + name + `"`
	m.set.RegisterMetricsWriter(func(w io.Writer) {
		metrics.WriteGaugeUint64(w, "duplex_websocket_open"+label+"}", uint64(max(s.Open.Load(), 0)))
		for _, c := range s.Upgrades() {
			metrics.WriteCounterUint64(w, "duplex_websocket_handshakes_total"+label+`,status="`+strconv.Itoa(c.Key)+`"}`, c.Count)
		}
		metrics.WriteCounterUint64(w, "duplex_websocket_messages_total"+label+`,direction="in"}`, s.MessagesIn.Load())
		metrics.WriteCounterUint64(w, "duplex_websocket_messages_total"+label+`,direction="out"}`, s.MessagesOut.Load())
		metrics.WriteCounterUint64(w, "duplex_websocket_bytes_total"+label+`,direction="in"}`, s.BytesIn.Load())
		metrics.WriteCounterUint64(w, "duplex_websocket_bytes_total"+label+`,direction="out"}`, s.BytesOut.Load())
		for _, c := range s.ClosesSent() {
			metrics.WriteCounterUint64(w, "duplex_websocket_closes_total"+label+`,direction="sent",code="`+strconv.Itoa(int(c.Key))+`"}`, c.Count)
		}
		for _, c := range s.ClosesReceived() {
			metrics.WriteCounterUint64(w, "duplex_websocket_closes_total"+label+`,direction="received",code="`+strconv.Itoa(int(c.Key))+`"}`, c.Count)
		}
	})
}

// Stream publishes the counters of an endpoint's HTTP stream fallback,
// labelled endpoint="name": sessions open and opened, streams served,
// POSTs read, messages and bytes each way, and requests refused by status.
func (m *Metrics) Stream(name string, s *httpstream.Stats) {
	label := `{endpoint="` + name + `"`
	m.set.RegisterMetricsWriter(func(w io.Writer) {
		metrics.WriteGaugeUint64(w, "duplex_httpstream_open"+label+"}", uint64(max(s.Open.Load(), 0)))
		metrics.WriteCounterUint64(w, "duplex_httpstream_sessions_total"+label+"}", s.Opened.Load())
		metrics.WriteCounterUint64(w, "duplex_httpstream_streams_total"+label+"}", s.Streams.Load())
		metrics.WriteCounterUint64(w, "duplex_httpstream_posts_total"+label+"}", s.Posts.Load())
		metrics.WriteCounterUint64(w, "duplex_httpstream_messages_total"+label+`,direction="in"}`, s.MessagesIn.Load())
		metrics.WriteCounterUint64(w, "duplex_httpstream_messages_total"+label+`,direction="out"}`, s.MessagesOut.Load())
		metrics.WriteCounterUint64(w, "duplex_httpstream_bytes_total"+label+`,direction="in"}`, s.BytesIn.Load())
		metrics.WriteCounterUint64(w, "duplex_httpstream_bytes_total"+label+`,direction="out"}`, s.BytesOut.Load())
		for _, c := range s.Refused() {
			metrics.WriteCounterUint64(w, "duplex_httpstream_refused_total"+label+`,status="`+strconv.Itoa(c.Key)+`"}`, c.Count)
		}
	})
}

// ServeHTTP writes every metric, and the Go runtime's and the process's.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.set.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
}
