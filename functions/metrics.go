package functions

import (
	"errors"
	"net/http"
	"time"

	"github.com/golem-lm/golem/functions/api"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// metrics are the host's Prometheus metrics, served at /metrics.
type metrics struct {
	reg       *prometheus.Registry
	full      http.Handler             // every series
	public    http.Handler             // without per-function series
	calls     *prometheus.CounterVec   // function, mode (sync|job), outcome (ok or error kind)
	duration  *prometheus.HistogramVec // function, mode
	jobs      *prometheus.CounterVec   // function, status
	workers   *prometheus.CounterVec   // event: start|kill|crash
	callbacks *prometheus.CounterVec   // outcome
	requests  *prometheus.CounterVec   // code
}

func newMetrics(h *Host) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "golem_function_calls_total",
		Help: "Function calls by function, mode (sync or job) and outcome (ok or the error kind)."}, []string{"function", "mode", "outcome"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "golem_function_duration_seconds",
		Help: "Duration of function calls.", Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10)}, []string{"function", "mode"})
	m.jobs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "golem_jobs_total",
		Help: "Jobs submitted and finished on this host, by function and status."}, []string{"function", "status"})
	m.workers = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "golem_worker_events_total",
		Help: "Worker process events: start, kill (timeout, memory, cancel), crash, recycle (goroutines left running) and evict (an idle worker of one function replaced to serve another)."}, []string{"event"})
	m.callbacks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "golem_callbacks_total",
		Help: "Job completion callbacks by outcome."}, []string{"outcome"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "golem_http_requests_total",
		Help: "HTTP requests by status code."}, []string{"code"})
	inflight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "golem_inflight_calls",
		Help: "Function calls running on this host now."}, func() float64 { return float64(h.inflight.Load()) })
	m.reg.MustRegister(m.calls, m.duration, m.jobs, m.workers, m.callbacks, m.requests, inflight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.full = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	m.public = promhttp.HandlerFor(withoutFunctions(m.reg), promhttp.HandlerOpts{Registry: m.reg})
	return m
}

// serveMetrics serves the Prometheus metrics. Series labelled with a function name
// (which says what is deployed) go only to keys with the metrics or admin scope;
// without one, /metrics has the host's own series (workers, HTTP codes, in-flight
// calls, Go and process).
func (h *Host) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if h.cfg.NoAuth || principalOf(r.Context()).canMetrics() {
		h.metrics.full.ServeHTTP(w, r)
		return
	}
	h.metrics.public.ServeHTTP(w, r)
}

// withoutFunctions drops the metric families that carry a function label.
func withoutFunctions(g prometheus.Gatherer) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := g.Gather()
		out := mfs[:0]
		for _, mf := range mfs {
			named := false
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "function" {
						named = true
					}
				}
			}
			if !named {
				out = append(out, mf)
			}
		}
		return out, err
	})
}

func (m *metrics) workerEvent(e string) { m.workers.WithLabelValues(e).Inc() }

func (m *metrics) observe(function, mode string, err error, d time.Duration) {
	outcome := "ok"
	if err != nil {
		outcome = api.KindInternal
		var ce *CallError
		if errors.As(err, &ce) {
			outcome = ce.Kind
		}
	}
	m.calls.WithLabelValues(function, mode, outcome).Inc()
	m.duration.WithLabelValues(function, mode).Observe(d.Seconds())
}
