package main

// KrakenD's two kinds of log line. The application log is krakend-gologging's
// (go-logging with DefaultPattern ` %{time:2006/01/02 - 15:04:05.000} %{color}▶
// %{level}%{color:reset} %{message}` behind the configured prefix; %{color} is
// written whatever the output). The access log is gin's default LoggerWithConfig
// line, written to stdout (gin.DefaultWriter) unless router.disable_access_log.

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// go-logging's colours (log_nix.go), by level index; INFO has none.
var levelColors = []string{"\033[35m", "\033[31m", "\033[33m", "\033[32m", "", "\033[36m"}

const (
	levelError   = 1
	levelWarning = 2
	levelInfo    = 4
)

type logger struct {
	mu     sync.Mutex
	out    io.Writer
	prefix string
	level  int
}

func newLogger(cfg *loggingConfig) *logger {
	l := &logger{out: io.Discard, prefix: cfg.Prefix, level: logLevel(cfg.Level)}
	if cfg.Stdout {
		l.out = os.Stdout
	}
	return l
}

func (l *logger) log(level int, args ...any) {
	if level > l.level {
		return
	}
	l.write(l.out, level, args...)
}

// always writes an INFO line to stdout whatever the level and outputs.
func (l *logger) always(args ...any) { l.write(os.Stdout, levelInfo, args...) }

func (l *logger) write(out io.Writer, level int, args ...any) {
	// go-logging joins the arguments as fmt.Sprintln does.
	message := strings.TrimSuffix(fmt.Sprintln(args...), "\n")
	line := fmt.Sprintf("%s %s %s▶ %s\033[0m %s\n", l.prefix, time.Now().Format("2006/01/02 - 15:04:05.000"),
		levelColors[level], logLevels[level], message)
	l.mu.Lock()
	io.WriteString(out, line)
	l.mu.Unlock()
}

func (l *logger) error(args ...any)   { l.log(levelError, args...) }
func (l *logger) warning(args ...any) { l.log(levelWarning, args...) }
func (l *logger) info(args ...any)    { l.log(levelInfo, args...) }

// accessLog writes gin's default line for a finished exchange.
func accessLog(out io.Writer, x *exchange, start time.Time) {
	now := time.Now()
	latency := now.Sub(start)
	switch {
	case latency > time.Minute:
		latency = latency.Truncate(10 * time.Second)
	case latency > time.Second:
		latency = latency.Truncate(10 * time.Millisecond)
	case latency > time.Millisecond:
		latency = latency.Truncate(10 * time.Microsecond)
	}
	p := x.r.URL.Path
	if x.rawQuery != "" {
		p += "?" + x.rawQuery
	}
	var errs strings.Builder
	for i, err := range x.errs {
		fmt.Fprintf(&errs, "Error #%02d: %s\n", i+1, err)
	}
	// gin's format with its colour strings empty (they are set only on a terminal).
	fmt.Fprintf(out, "[GIN] %v |%s %3d %s|%s %8v %s| %15s |%s %-7s %s %#v\n%s",
		now.Format("2006/01/02 - 15:04:05"), "", x.w.status, "", "", latency, "",
		clientIP(x.r), "", x.r.Method, "", p, errs.String())
}
