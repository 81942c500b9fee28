package main

// telemetry/opentelemetry as krakend-otel v0.14 does it for traces: the exporters
// and tracer provider (otel.go, state/state.go, exporter/otelcollector), the
// global layer's server span (http/server), the proxy and backend layers' spans
// (lura/proxy.go, lura/proxy_tracer.go) and the backend request's client span,
// which injects traceparent into the backend request (http/client).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.21.0"
	"go.opentelemetry.io/otel/trace"
)

type telemetry struct {
	provider  *sdktrace.TracerProvider
	tracer    trace.Tracer
	prop      propagation.TextMapPropagator
	skip      map[string]bool
	roundTrip bool
}

func newTelemetry(ctx context.Context, cfg *telemetryConfig, log *logger) (*telemetry, error) {
	// krakend-otel uses autoprop: W3C trace context and baggage unless
	// OTEL_PROPAGATORS says otherwise, which this stand-in does not follow.
	if p := os.Getenv("OTEL_PROPAGATORS"); p != "" && p != "tracecontext,baggage" {
		return nil, fmt.Errorf("OTEL_PROPAGATORS=%s is not supported by this stand-in", p)
	}
	options := []sdktrace.TracerProviderOption{}
	for _, x := range cfg.Exporters.OTLP {
		exporter, err := spanExporter(ctx, x.Host, x.Port)
		if err != nil {
			return nil, fmt.Errorf("OTLP Exporter %s failed: %w", x.Name, err)
		}
		options = append(options, sdktrace.WithBatcher(exporter))
	}
	attrs := []attribute.KeyValue{semconv.ServiceName(cfg.ServiceName), semconv.ServiceVersion(krakendVersion)}
	if cfg.DeployEnv != "" {
		attrs = append(attrs, semconv.DeploymentEnvironment(cfg.DeployEnv))
	}
	// Every trace is sampled, whatever the caller's flag, unless the rate is a
	// fraction: then the parent decides, and the rate for new traces.
	sampler := sdktrace.AlwaysSample()
	if rate := *cfg.TraceSampleRate; rate > 0 && rate < 1 {
		sampler = sdktrace.ParentBased(sdktrace.TraceIDRatioBased(rate))
	}
	options = append(options, sdktrace.WithSampler(sampler),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, attrs...)))
	provider := sdktrace.NewTracerProvider(options...)

	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	otel.SetTextMapPropagator(prop)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.error("[SERVICE: OpenTelemetry] " + err.Error())
	}))
	return &telemetry{
		provider: provider,
		tracer:   provider.Tracer("io.krakend.krakend-otel"),
		prop:     prop,
		// krakend-otel's default skip_paths, compared with the whole path.
		skip:      map[string]bool{"/__health": true, "/__debug/": true, "/__echo/": true, "/__stats/": true},
		roundTrip: cfg.Layers.Backend.Traces.RoundTrip,
	}, nil
}

// spanExporter is otlpExporter; tests replace it with an in-memory one.
var spanExporter = otlpExporter

// otlpExporter builds the endpoint as krakend-otel does: "host:port", where an
// http:// host means no TLS.
func otlpExporter(ctx context.Context, host string, port int) (sdktrace.SpanExporter, error) {
	var options []otlptracehttp.Option
	endpoint := fmt.Sprintf("%s:%d", host, port)
	if strings.HasPrefix(endpoint, "http://") || strings.HasPrefix(endpoint, "https://") {
		u, err := url.Parse(endpoint)
		if err != nil {
			return nil, err
		}
		if u.Scheme == "http" {
			options = append(options, otlptracehttp.WithInsecure())
		}
		endpoint = u.Host
	} else {
		options = append(options, otlptracehttp.WithInsecure())
	}
	return otlptracehttp.New(ctx, append(options, otlptracehttp.WithEndpoint(endpoint))...)
}

func (t *telemetry) shutdown(ctx context.Context) {
	t.provider.Shutdown(ctx)
}

// serverTrack is what the global layer learns while the request is served.
type serverTrack struct {
	route    string
	status   int
	size     int
	writeErr error
}

type trackKey struct{}

// setRoute is krakend-otel's SetEndpointPattern, called by each endpoint.
func setRoute(ctx context.Context, route string) {
	if track, ok := ctx.Value(trackKey{}).(*serverTrack); ok {
		track.route = route
	}
}

type trackingWriter struct {
	http.ResponseWriter
	track *serverTrack
}

func (w *trackingWriter) WriteHeader(code int) {
	w.track.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	if err != nil && w.track.writeErr == nil {
		w.track.writeErr = err
	}
	w.track.size += n
	return n, err
}

// wrapServer is the global layer: a server span named after the path, continuing
// the caller's traceparent.
func (t *telemetry) wrapServer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t.skip[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		track := &serverTrack{status: http.StatusOK}
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx = context.WithValue(ctx, trackKey{}, track)
		ctx, span := t.tracer.Start(ctx, r.URL.Path, trace.WithSpanKind(trace.SpanKindServer))
		r = r.WithContext(ctx)
		attrs := requestAttrs(r)
		if r.RemoteAddr != "" {
			attrs = append(attrs, semconv.ClientAddress(r.RemoteAddr))
		}
		span.SetAttributes(attrs...)
		span.SetAttributes(attribute.String("krakend.stage", "global"))

		next.ServeHTTP(&trackingWriter{ResponseWriter: w, track: track}, r)

		if !span.IsRecording() {
			return
		}
		route := track.route
		if route == "" {
			route = strconv.Itoa(track.status) + " " + http.StatusText(track.status)
		}
		span.SetAttributes(semconv.HTTPRoute(route), semconv.HTTPResponseStatusCode(track.status),
			semconv.HTTPResponseBodySize(track.size))
		if track.writeErr != nil {
			span.RecordError(track.writeErr)
			span.SetStatus(codes.Error, track.writeErr.Error())
		} else {
			span.SetStatus(codes.Ok, "")
		}
		span.End()
	})
}

// requestAttrs is krakend-otel's TraceRequestAttrs.
func requestAttrs(r *http.Request) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs, semconv.URLFull(r.URL.String()), semconv.ServerAddress(r.Host),
		semconv.HTTPRequestMethodKey.String(r.Method))
	if r.ContentLength >= 0 {
		attrs = append(attrs, semconv.HTTPRequestBodySize(int(r.ContentLength)))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	return attrs
}

// krakend-otel's NormalizeURLPattern: {{.Id}} → :id.
func normalizeURLPattern(pattern string) string {
	for {
		start := strings.Index(pattern, "{{.")
		if start < 0 {
			return pattern
		}
		end := strings.Index(pattern[start:], "}}")
		if end < 0 {
			return pattern
		}
		pattern = pattern[:start] + ":" + strings.ToLower(pattern[start+3:start+end]) + pattern[start+end+2:]
	}
}

type stage struct {
	name  string
	attrs []attribute.KeyValue
}

// endpointTrace holds the proxy layer's and the backend layer's span settings.
type endpointTrace struct {
	tracer  trace.Tracer
	proxy   stage
	backend stage
}

func backendAttrs(e *endpoint, b backend) []attribute.KeyValue {
	return []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(e.Method),
		semconv.HTTPRoute(normalizeURLPattern(b.pattern)),
		attribute.String("krakend.endpoint.route", normalizeURLPattern(e.route)),
		attribute.String("krakend.endpoint.method", e.Method),
	}
}

func (t *telemetry) endpoint(e *endpoint, b backend) *endpointTrace {
	if t.skip[e.route] {
		return nil
	}
	route := normalizeURLPattern(e.route)
	return &endpointTrace{
		tracer: t.tracer,
		proxy: stage{route, []attribute.KeyValue{
			semconv.HTTPRequestMethodKey.String(e.Method), semconv.HTTPRoute(route),
			attribute.String("krakend.stage", "proxy"),
		}},
		backend: stage{normalizeURLPattern(b.pattern),
			append(backendAttrs(e, b), attribute.String("krakend.stage", "backend"))},
	}
}

func (et *endpointTrace) start(ctx context.Context, s stage) (context.Context, trace.Span) {
	ctx, span := et.tracer.Start(ctx, s.name)
	span.SetAttributes(s.attrs...)
	return ctx, span
}

// endStage is krakend-otel's middlewareTracer.end.
func endStage(span trace.Span, resp *backendResponse, err error) {
	if err != nil {
		if errors.Is(err, context.Canceled) {
			span.SetAttributes(attribute.Bool("canceled", true))
		} else {
			span.SetAttributes(attribute.String("error", err.Error()))
		}
		span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(500))
	} else if resp != nil {
		span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(resp.status))
	}
	span.SetAttributes(attribute.Bool("complete", resp != nil && resp.complete))
	span.End()
}

// transport wraps the shared transport with the backend request's client span,
// unless layers.backend.traces.round_trip is off (then nothing is injected).
func (t *telemetry) transport(base http.RoundTripper, e *endpoint, b backend) http.RoundTripper {
	if t.skip[e.route] || !t.roundTrip {
		return base
	}
	return &tracingTransport{
		base:   base,
		tracer: t.tracer,
		prop:   t.prop,
		name:   normalizeURLPattern(b.pattern),
		attrs:  append(backendAttrs(e, b), attribute.String("krakend.stage", "backend-request")),
	}
}

type tracingTransport struct {
	base   http.RoundTripper
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	name   string
	attrs  []attribute.KeyValue
}

func (t *tracingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := t.tracer.Start(req.Context(), t.name, trace.WithSpanKind(trace.SpanKindClient))
	if !span.IsRecording() {
		return t.base.RoundTrip(req) // not sampled: nothing injected
	}
	req = req.WithContext(ctx)
	attrs := requestAttrs(req)
	header := make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		header[k] = v
	}
	req.Header = header
	t.prop.Inject(ctx, propagation.HeaderCarrier(req.Header)) // replaces a forwarded traceparent
	span.SetAttributes(t.attrs...)
	span.SetAttributes(attrs...)

	sent := time.Now()
	resp, err := t.base.RoundTrip(req)
	latency := time.Since(sent).Seconds()
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	} else {
		span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode),
			semconv.HTTPResponseBodySize(int(resp.ContentLength)), attribute.Float64("response-duration", latency))
		span.SetStatus(codes.Ok, "")
	}
	span.End()
	return resp, err
}
