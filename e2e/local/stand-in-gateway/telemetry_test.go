package main

import (
	"context"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestTelemetrySpansAndPropagation(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	spanExporter = func(context.Context, string, int) (sdktrace.SpanExporter, error) { return exporter, nil }
	t.Cleanup(func() { spanExporter = otlpExporter })
	s := newStack(t, map[string]any{"telemetry": map[string]any{
		"environment": "test", "sample_rate": 1, "otlp_host": "http://127.0.0.1", "otlp_port": 19999,
	}})

	caller := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	resp, _ := s.do("GET", "/api/v1/products/42", map[string]string{"traceparent": caller, "tracestate": "vendor=x"}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("got %d", resp.StatusCode)
	}
	forwarded := s.last().header.Get("Traceparent")
	s.g.tel.provider.ForceFlush(context.Background())

	spans := exporter.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, span := range spans {
		byName[span.Name+" "+span.SpanKind.String()] = span
	}
	server, ok1 := byName["/api/v1/products/42 server"]
	proxy, ok2 := byName["/api/v1/products/:id internal"]
	backend, ok3 := byName["/products/:id internal"]
	client, ok4 := byName["/products/:id client"]
	if !ok1 || !ok2 || !ok3 || !ok4 || len(spans) != 4 {
		t.Fatalf("spans %v", byName)
	}
	chain := []tracetest.SpanStub{server, proxy, backend, client}
	if server.Parent.SpanID().String() != "b7ad6b7169203331" || server.SpanContext.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("the server span does not continue the caller's trace: %v", server.Parent)
	}
	for i := 1; i < len(chain); i++ {
		if chain[i].Parent.SpanID() != chain[i-1].SpanContext.SpanID() {
			t.Errorf("%s is not the child of %s", chain[i].Name, chain[i-1].Name)
		}
	}
	want := "00-0af7651916cd43dd8448eb211c80319c-" + client.SpanContext.SpanID().String() + "-01"
	if forwarded != want {
		t.Errorf("backend got traceparent %q, want %q (the client span)", forwarded, want)
	}
	if got := s.last().header.Get("Tracestate"); got != "vendor=x" {
		t.Errorf("tracestate %q", got)
	}
	attrs := map[string]string{}
	for _, kv := range server.Attributes {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	if attrs["http.route"] != "/api/v1/products/:id" || attrs["krakend.stage"] != "global" || attrs["http.response.status_code"] != "200" {
		t.Errorf("server span attributes %v", attrs)
	}
	res := server.Resource.String()
	if !strings.Contains(res, "service.name=gateway") || !strings.Contains(res, "deployment.environment=test") {
		t.Errorf("resource %s", res)
	}
	if server.SpanKind != trace.SpanKindServer || client.SpanKind != trace.SpanKindClient {
		t.Error("span kinds")
	}
}

func TestWithoutTelemetryTraceparentIsForwarded(t *testing.T) {
	s := newStack(t, nil)
	caller := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	s.do("GET", "/api/v1/products/42", map[string]string{"traceparent": caller, "tracestate": "vendor=x"}, "")
	if got := s.last(); got.header.Get("Traceparent") != caller || got.header.Get("Tracestate") != "vendor=x" {
		t.Errorf("backend got %v", got.header)
	}
}
