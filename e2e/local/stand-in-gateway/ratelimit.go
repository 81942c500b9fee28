package main

// qos/ratelimit/router as krakend-ratelimit v3 does it (router/router.go
// ConfigGetter, router/gin/gin.go, tokenbucket.go, memorybackend.go): a bucket per
// value of the key header, checked first (429 when empty or exhausted), then one
// bucket for everybody (503). Both answer with an empty body.

import (
	"math/rand"
	"net/http"
	"sync"
	"time"
)

// bucket is krakend-ratelimit's TokenBucket, quirks included: it starts full,
// refills only once empty, and a refill that would overflow fills it without
// taking a token.
type bucket struct {
	mu       sync.Mutex
	interval time.Duration
	capacity uint64
	tokens   uint64
	last     time.Time
}

func newBucket(rate float64, capacity uint64) *bucket {
	if capacity < 1 {
		capacity = 1
	}
	if rate < 1e-9 {
		rate = 1e-9
	}
	return &bucket{interval: time.Duration(int64(1e9 / rate)), capacity: capacity, tokens: capacity, last: time.Now()}
}

func (b *bucket) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens > 0 {
		b.tokens--
		return true
	}
	add := uint64(time.Since(b.last) / b.interval)
	if add == 0 {
		return false
	}
	b.last = b.last.Add(time.Duration(add) * b.interval)
	if b.tokens+add > b.capacity {
		b.tokens = b.capacity
		return true
	}
	b.tokens += add - 1
	return true
}

type limiter struct {
	key      string
	rate     float64 // per second
	capacity uint64
	ttl      time.Duration
	global   *bucket

	mu      sync.Mutex
	clients map[string]*clientBucket
	done    chan struct{}
}

type clientBucket struct {
	*bucket
	lastAccess time.Time
}

func newLimiter(cfg *rateLimitConfig) *limiter {
	maxRate, clientRate := cfg.MaxRate, cfg.ClientMaxRate
	// Rates are per `every` (at least a second; none given is a second too).
	every := time.Duration(cfg.Every)
	if every < time.Second {
		every = time.Second
	}
	factor := float64(time.Second) / float64(every)
	maxRate, clientRate = maxRate*factor, clientRate*factor
	ttl := 10 * time.Minute // krakendrate.DataTTL
	if every > ttl {
		ttl = time.Duration(int64((1 + 0.25*rand.Float64()) * float64(every)))
	}
	l := &limiter{key: cfg.Key, ttl: ttl, done: make(chan struct{})}
	if maxRate > 0 {
		capacity := uint64(cfg.Capacity)
		if capacity == 0 {
			capacity = 1
			if maxRate >= 1 {
				capacity = uint64(maxRate)
			}
		}
		l.global = newBucket(maxRate, capacity)
	}
	if clientRate > 0 {
		capacity := uint64(cfg.ClientCapacity)
		if capacity == 0 {
			// krakend-ratelimit looks at max_rate here, not client_max_rate.
			capacity = 1
			if maxRate >= 1 {
				capacity = uint64(clientRate)
			}
		}
		l.rate, l.capacity = clientRate, capacity
		l.clients = map[string]*clientBucket{}
		go l.evict(time.Minute)
	}
	return l
}

func (l *limiter) allow(x *exchange) bool {
	if l.clients != nil {
		key := x.r.Header.Get(l.key)
		if key == "" || !l.client(key).allow() {
			x.errs = append(x.errs, errLimited)
			x.abort(http.StatusTooManyRequests)
			return false
		}
	}
	if l.global != nil && !l.global.allow() {
		x.errs = append(x.errs, errLimited)
		x.abort(http.StatusServiceUnavailable)
		return false
	}
	return true
}

func (l *limiter) client(key string) *bucket {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[key]
	if c == nil {
		c = &clientBucket{bucket: newBucket(l.rate, l.capacity)}
		l.clients[key] = c
	}
	c.lastAccess = now
	return c.bucket
}

// evict forgets the buckets of clients unseen for the TTL, as the memory backend does.
func (l *limiter) evict(every time.Duration) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case <-l.done:
			return
		case now := <-ticker.C:
			l.mu.Lock()
			for key, c := range l.clients {
				if c.lastAccess.Add(l.ttl).Before(now) {
					delete(l.clients, key)
				}
			}
			l.mu.Unlock()
		}
	}
}

func (l *limiter) stop() {
	if l.clients != nil {
		close(l.done)
	}
}
