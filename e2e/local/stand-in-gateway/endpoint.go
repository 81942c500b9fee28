package main

// One endpoint: krakend-jose's validator and signer (gin/jose.go), krakend-ratelimit's
// router limits (router/gin/gin.go), lura's endpoint handler (router/gin/endpoint.go)
// and its HTTP proxy (proxy/http.go, proxy/balancing.go, proxy/request.go).

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

type endpointHandler struct {
	g         *gateway
	method    string
	route     string // /api/v1/products/:id
	logPrefix string
	timeout   time.Duration
	headers   []string // input_headers, canonical
	query     []string // input_query_strings

	host       string
	pattern    string // url_pattern with {{.Key}} placeholders
	decodeJSON bool
	errPrefix  string // lura's "[METHOD /url_pattern]:" for a refused status
	client     *http.Client
	trace      *endpointTrace // nil without telemetry/opentelemetry

	validator       *validator
	validatorBroken bool // erroredHandler: every request answered 401
	propagate       [][]string
	jwtParams       []string
	signer          *signer
	signed          bool // an auth/signer endpoint, working or not
	limiter         *limiter
}

func (g *gateway) newEndpoint(e *endpoint, transport http.RoundTripper) (*endpointHandler, error) {
	b := e.Backend[0]
	h := &endpointHandler{
		g:          g,
		method:     e.Method,
		route:      e.route,
		logPrefix:  "[ENDPOINT: " + e.route + "]",
		timeout:    time.Duration(e.Timeout),
		headers:    e.InputHeaders,
		query:      e.InputQueryStrings,
		host:       b.Host[0],
		pattern:    b.pattern,
		decodeJSON: b.Encoding != "no-op",
		errPrefix:  fmt.Sprintf("[%s %s]:", e.Method, b.pattern),
		client:     &http.Client{Transport: transport},
	}
	if g.tel != nil {
		h.trace = g.tel.endpoint(e, b)
		h.client = &http.Client{Transport: g.tel.transport(transport, e, b)}
	}
	extra := e.ExtraConfig
	if v := extra.Validator; v != nil {
		if !v.DisableJWKSecurity {
			// GetSignatureConfig: ErrInsecureJWKSource, then erroredHandler.
			g.log.warning(h.logPrefix+"[JWTValidator]", "Unable to parse the configuration:", "JWK client is using an insecure connection to the JWK service")
			h.validatorBroken = true
		} else {
			// NewValidator failing is logger.Fatal: KrakenD exits.
			validator, err := newValidator(v)
			if err != nil {
				return nil, fmt.Errorf("%s[JWTValidator] Unable to create the validator: %w", h.logPrefix, err)
			}
			h.validator, h.propagate = validator, v.PropagateClaims
			for _, m := range outputParam.FindAllStringSubmatch(b.URLPattern, -1) {
				if claim, ok := strings.CutPrefix(m[1], "JWT."); ok {
					h.jwtParams = append(h.jwtParams, claim)
				}
			}
		}
	}
	if s := extra.Signer; s != nil {
		h.signed = true
		signer, err := newSigner(s)
		if err != nil {
			g.log.error(h.logPrefix+"[JWTSigner]", "Unable to create the signer:", err.Error())
		}
		h.signer = signer
	}
	if l := extra.RateLimit; l != nil && !h.signed {
		h.limiter = newLimiter(l)
		g.limiters = append(g.limiters, h.limiter)
	}
	return h, nil
}

func (h *endpointHandler) serve(x *exchange) {
	if h.g.tel != nil {
		setRoute(x.r.Context(), h.route) // krakend-otel router/gin
	}
	if h.validatorBroken {
		x.abort(http.StatusUnauthorized)
		return
	}
	if h.validator != nil {
		claims, err := h.validator.validate(x.r)
		if err != nil {
			x.abort(http.StatusUnauthorized)
			return
		}
		// propagate_claims replaces whatever the caller sent; a missing claim is "".
		for _, pair := range h.propagate {
			value, _ := claimString(claims, pair[0])
			x.r.Header.Set(pair[1], value)
		}
		for _, name := range h.jwtParams {
			if value, ok := claimString(claims, name); ok {
				x.params = append(x.params, param{"JWT." + name, value})
			}
		}
	}
	if h.signed {
		h.serveSigned(x) // TokenSigner never calls the inner handlers: no rate limit
		return
	}
	if h.limiter != nil && !h.limiter.allow(x) {
		return
	}
	h.serveNoOp(x)
}

// serveNoOp is lura's endpoint handler with the no-op render.
func (h *endpointHandler) serveNoOp(x *exchange) {
	header := x.w.Header()
	header.Set("X-Krakend", h.g.versionHeader)
	ctx, cancel := context.WithTimeout(x.r.Context(), h.timeout)
	defer cancel()

	resp, err := h.proxy(ctx, x)
	if err == nil && ctx.Err() != nil {
		err = errInternal
	}
	// Completed only when a response has decoded data, which no-op never has.
	header.Set("X-Krakend-Completed", "false")
	if err != nil {
		x.errs = append(x.errs, err)
		h.g.log.error(h.logPrefix, err.Error())
		if resp == nil {
			x.abort(http.StatusInternalServerError)
			if h.g.returnErrorMsg {
				io.WriteString(x.w, err.Error())
			}
			return
		}
	}
	defer resp.body.Close()
	for k, vs := range resp.header {
		for _, v := range vs {
			header.Add(k, v)
		}
	}
	x.w.WriteHeader(resp.status)
	// io.Copy would allocate 32 KiB per response: reuse the buffers.
	buf := copyBuffers.Get().(*[]byte)
	io.CopyBuffer(x.w, resp.body, *buf)
	copyBuffers.Put(buf)
}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// serveSigned is krakend-jose's TokenSigner.
func (h *endpointHandler) serveSigned(x *exchange) {
	if h.signer == nil {
		x.abort(http.StatusUnauthorized) // erroredHandler
		return
	}
	prefix := h.logPrefix + "[JWTSigner]"
	ctx, cancel := context.WithTimeout(x.r.Context(), h.timeout)
	defer cancel()
	resp, err := h.proxy(ctx, x)
	if err != nil {
		h.g.log.error(prefix, "Proxy response:", err.Error())
		x.abort(http.StatusBadRequest)
		return
	}
	if err := h.signer.signFields(resp.data); err != nil {
		h.g.log.error(prefix, "Signing fields:", err.Error())
		x.abort(http.StatusBadRequest)
		return
	}
	// c.Header(k, v[0]) for each header, then c.JSON(status, data). A decoded
	// response keeps no status nor headers in lura (proxy/http_response.go), so
	// gin answers 200 with only its JSON Content-Type.
	for k, v := range resp.header {
		x.w.Header().Set(k, v[0])
	}
	body, err := json.Marshal(resp.data)
	if err != nil {
		x.errs = append(x.errs, err)
		return
	}
	if x.w.Header().Get("Content-Type") == "" {
		x.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	status := resp.status
	if status <= 0 {
		status = http.StatusOK // gin ignores WriteHeader(0)
	}
	x.w.WriteHeader(status)
	x.w.Write(body)
}

type backendResponse struct {
	status   int
	header   http.Header
	body     io.ReadCloser  // no-op
	data     map[string]any // json
	complete bool
}

// proxy runs the backend call inside krakend-otel's proxy and backend spans.
func (h *endpointHandler) proxy(ctx context.Context, x *exchange) (*backendResponse, error) {
	if h.trace == nil {
		return h.callBackend(ctx, x)
	}
	ctx, proxySpan := h.trace.start(ctx, h.trace.proxy)
	ctx, backendSpan := h.trace.start(ctx, h.trace.backend)
	resp, err := h.callBackend(ctx, x)
	endStage(backendSpan, resp, err)
	endStage(proxySpan, resp, err)
	return resp, err
}

func (h *endpointHandler) callBackend(ctx context.Context, x *exchange) (*backendResponse, error) {
	req, err := h.backendRequest(ctx, x)
	if err != nil {
		return nil, err
	}
	resp, err := h.client.Do(req)
	x.r.Body.Close()
	if ctx.Err() != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	if !h.decodeJSON {
		return &backendResponse{status: resp.StatusCode, header: resp.Header, body: resp.Body, complete: true}, nil
	}

	// lura's DefaultHTTPStatusHandler and JSON decoder (numbers kept as written).
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("invalid status code %d %s %s", resp.StatusCode, h.errPrefix, resp.Request.URL)
	}
	var reader io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, err
		}
		defer gz.Close()
		reader = gz
	}
	var data map[string]any
	decoder := json.NewDecoder(reader)
	decoder.UseNumber()
	if err := decoder.Decode(&data); err != nil {
		return nil, err
	}
	return &backendResponse{data: data, complete: true}, nil
}

// backendRequest is what lura's NewRequest, request builder and load balancer make
// of the caller's request.
func (h *endpointHandler) backendRequest(ctx context.Context, x *exchange) (*http.Request, error) {
	r := x.r
	headers := make(http.Header, len(h.headers)+3)
	for _, k := range h.headers {
		if v, ok := r.Header[k]; ok {
			headers[k] = append([]string(nil), v...)
		}
	}
	headers["X-Forwarded-For"] = []string{clientIP(r)}
	headers["X-Forwarded-Host"] = []string{r.Host}
	if _, ok := headers["User-Agent"]; ok {
		headers["X-Forwarded-Via"] = []string{userAgent}
	} else {
		headers["User-Agent"] = []string{userAgent}
	}

	p := h.pattern
	for _, prm := range x.params {
		p = strings.ReplaceAll(p, "{{."+prm.key+"}}", prm.value)
	}
	u, err := url.Parse(h.host + p)
	if err != nil {
		return nil, err
	}
	if len(h.query) > 0 {
		values := r.URL.Query()
		query := url.Values{}
		for _, q := range h.query {
			if v, ok := values[q]; ok && len(v) > 0 {
				query[q] = v
			}
		}
		if len(query) > 0 {
			if u.RawQuery != "" {
				u.RawQuery += "&" + query.Encode()
			} else {
				u.RawQuery = query.Encode()
			}
		}
	}
	req, err := http.NewRequestWithContext(ctx, h.method, u.String(), r.Body)
	if err != nil {
		return nil, err
	}
	req.Header = headers
	return req, nil
}
