package functions

import (
	"errors"
	"net/http"
	"time"

	"github.com/golem-lm/golem/functions/api"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the host's Prometheus metrics, served at /metrics.
type metrics struct {
	reg       *prometheus.Registry
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
		Help: "Worker process events: start, kill (timeout, memory, cancel), crash and recycle (goroutines left running)."}, []string{"event"})
	m.callbacks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "golem_callbacks_total",
		Help: "Job completion callbacks by outcome."}, []string{"outcome"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "golem_http_requests_total",
		Help: "HTTP requests by status code."}, []string{"code"})
	inflight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "golem_inflight_calls",
		Help: "Function calls running on this host now."}, func() float64 { return float64(h.inflight.Load()) })
	m.reg.MustRegister(m.calls, m.duration, m.jobs, m.workers, m.callbacks, m.requests, inflight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
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
