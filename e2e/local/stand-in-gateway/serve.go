package main

// The gateway: gin's engine as lura and krakend-ce build it, the handler chain
// krakend-ce's handler_factory.go stacks for each endpoint (validator, then signer,
// then rate limit, then lura's endpoint handler), and lura's no-op rendering.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

const (
	krakendVersion = "2.13.8"
	userAgent      = "KrakenD Version " + krakendVersion // lura core.KrakendUserAgent
)

var (
	errInternal = errors.New("internal server error") // lura server.ErrInternalError
	errLimited  = errors.New("rate limit exceded")    // krakend-ratelimit's ErrLimited, sic
)

type gateway struct {
	router         *router
	log            *logger
	accessLog      io.Writer // nil when router.disable_access_log
	versionHeader  string    // X-Krakend
	returnErrorMsg bool
	tel            *telemetry
	handler        http.Handler
	limiters       []*limiter
}

func newGateway(ctx context.Context, cfg *config) (*gateway, error) {
	routerCfg := cfg.ExtraConfig.Router
	g := &gateway{
		router:         newRouter(),
		log:            newLogger(cfg.ExtraConfig.Logging),
		versionHeader:  "Version " + krakendVersion,
		returnErrorMsg: routerCfg.ReturnErrorMsg,
	}
	if routerCfg.HideVersionHeader {
		g.versionHeader = "Version undefined"
	}
	if !routerCfg.DisableAccessLog {
		g.accessLog = os.Stdout
	}
	if t := cfg.ExtraConfig.Telemetry; t != nil {
		tel, err := newTelemetry(ctx, t, g.log)
		if err != nil {
			return nil, err
		}
		g.tel = tel
	}

	// lura's InitHTTPDefaultTransport, with KrakenD's defaults for what the
	// configuration does not set.
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{}).DialContext,
		MaxIdleConnsPerHost: cfg.MaxIdleConnectionsPerHost,
		TLSHandshakeTimeout: 10 * time.Second,
	}

	// The health endpoint is registered first (lura NewEngine), so GET's tree is first.
	if err := g.router.add("GET", routerCfg.HealthPath, health); err != nil {
		return nil, err
	}
	for i := range cfg.Endpoints {
		e, err := g.newEndpoint(&cfg.Endpoints[i], transport)
		if err != nil {
			return nil, err
		}
		if err := g.router.add(e.method, e.route, e.serve); err != nil {
			return nil, err
		}
	}
	g.handler = g
	if g.tel != nil {
		g.handler = g.tel.wrapServer(g)
	}
	return g, nil
}

// close flushes the spans (KrakenD shuts its tracer provider down on exit).
func (g *gateway) close(ctx context.Context) {
	for _, l := range g.limiters {
		l.stop()
	}
	if g.tel != nil {
		g.tel.shutdown(ctx)
	}
}

// recorder keeps what gin's responseWriter tells the access log.
type recorder struct {
	http.ResponseWriter
	status  int
	written bool
}

func (w *recorder) WriteHeader(code int) {
	if w.written {
		return
	}
	w.status, w.written = code, true
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(w.status)
	}
	return w.ResponseWriter.Write(b)
}

// exchange is one request on its way through the handlers (gin's Context).
type exchange struct {
	w        *recorder
	r        *http.Request
	rawQuery string
	params   []param
	errs     []error // gin's c.Errors, shown by the access log
}

type param struct{ key, value string }

// abort is gin's AbortWithStatus: the status and an empty body.
func (x *exchange) abort(code int) { x.w.WriteHeader(code) }

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	x := &exchange{w: &recorder{ResponseWriter: w, status: http.StatusOK}, r: r, rawQuery: r.URL.RawQuery}
	result, n, values, allowed := g.router.route(x.w, r)
	if result == routeRedirected {
		return
	}
	g.recovered(x, func() {
		switch result {
		case routeFound:
			if checkParams(x, n, values) {
				n.handler(x)
			}
		case routeNotAllowed:
			x.w.Header().Set("Allow", allowed)
			g.serveError(x, http.StatusMethodNotAllowed, "405 method not allowed")
		default:
			g.serveError(x, http.StatusNotFound, "404 page not found")
		}
	})
	if g.accessLog != nil {
		accessLog(g.accessLog, x, start)
	}
}

// recovered is gin.Recovery: a panic answers 500.
func (g *gateway) recovered(x *exchange, serve func()) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			fmt.Fprintf(os.Stderr, "[Recovery] %s panic recovered:\n%v\n", time.Now().Format("2006/01/02 - 15:04:05"), p)
			x.abort(http.StatusInternalServerError)
		}
	}()
	serve()
}

// serveError is gin's answer to no route or no method, after krakend-ce's
// NoRoute/NoMethod handler (router_engine.go defaultHandler) set its headers.
func (g *gateway) serveError(x *exchange, code int, body string) {
	h := x.w.Header()
	h.Set("X-Krakend", g.versionHeader)
	h.Set("X-Krakend-Completed", "false")
	h["Content-Type"] = []string{"text/plain"}
	x.w.WriteHeader(code)
	io.WriteString(x.w, body)
}

// checkParams is lura's paramChecker middleware: no parameter may still be encoded.
func checkParams(x *exchange, n *node, values []string) bool {
	for _, v := range values {
		s, err := url.PathUnescape(v)
		if err != nil {
			x.abort(http.StatusBadRequest)
			fmt.Fprintf(x.w, "error: %s", err)
			return false
		}
		if s != v || strings.ContainsAny(s, "?#") {
			x.abort(http.StatusBadRequest)
			io.WriteString(x.w, "error: encoded url params")
			return false
		}
	}
	for i, v := range values {
		x.params = append(x.params, param{n.keys[i], v})
	}
	return true
}

// health is lura's healthEndpoint, with no async agents to report.
func health(x *exchange) {
	body, _ := json.Marshal(map[string]any{"status": "ok", "agents": map[string]string{}, "now": time.Now().String()})
	x.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	x.w.WriteHeader(http.StatusOK)
	x.w.Write(body)
}

// clientIP is gin's ClientIP with its defaults: every proxy trusted, so the first
// address of X-Forwarded-For (then X-Real-Ip) when all of it parses.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(strings.TrimSpace(r.RemoteAddr))
	if err != nil {
		return ""
	}
	remote := net.ParseIP(host)
	if remote == nil {
		return ""
	}
	for _, name := range []string{"X-Forwarded-For", "X-Real-Ip"} {
		header := strings.Join(r.Header.Values(name), ",")
		if header == "" {
			continue
		}
		items := strings.Split(header, ",")
		valid := true
		for _, item := range items {
			if net.ParseIP(strings.TrimSpace(item)) == nil {
				valid = false
				break
			}
		}
		if valid {
			return strings.TrimSpace(items[0])
		}
	}
	return remote.String()
}
