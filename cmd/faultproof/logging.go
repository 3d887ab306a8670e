package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"
)

var (
	logLevelFlag = &cli.StringFlag{
		Name:    "log.level",
		Usage:   "Lowest log level to print: trace, debug, info, warn, error, crit",
		Value:   "info",
		EnvVars: []string{envPrefix + "LOG_LEVEL"},
	}
	logFormatFlag = &cli.StringFlag{
		Name:    "log.format",
		Usage:   "Log format: text, terminal, logfmt, logfmtms, json, jsonms, json-pretty",
		Value:   "text",
		EnvVars: []string{envPrefix + "LOG_FORMAT"},
	}
	logColorFlag = &cli.BoolFlag{
		Name:    "log.color",
		Usage:   "Color the terminal log format",
		EnvVars: []string{envPrefix + "LOG_COLOR"},
	}
	logPIDFlag = &cli.BoolFlag{
		Name:    "log.pid",
		Usage:   "Add the process ID to every log record",
		EnvVars: []string{envPrefix + "LOG_PID"},
	}
	logFlags = []cli.Flag{logLevelFlag, logFormatFlag, logColorFlag, logPIDFlag}
)

// setupLogging installs the root logger. Logs go to stderr: stdout belongs to command output and, under a
// VM, to the program.
func setupLogging(ctx *cli.Context) error {
	h, err := newLogHandler(os.Stderr, ctx.String(logLevelFlag.Name), ctx.String(logFormatFlag.Name), ctx.Bool(logColorFlag.Name))
	if err != nil {
		return err
	}
	l := log.NewLogger(h)
	if ctx.Bool(logPIDFlag.Name) {
		l = l.With("pid", os.Getpid())
	}
	log.SetDefault(l)
	return nil
}

var logLevels = map[string]slog.Level{
	"trace": log.LevelTrace,
	"debug": log.LevelDebug,
	"info":  log.LevelInfo,
	"warn":  log.LevelWarn,
	"error": log.LevelError,
	"crit":  log.LevelCrit,
}

func newLogHandler(w io.Writer, levelName, format string, color bool) (slog.Handler, error) {
	level, ok := logLevels[strings.ToLower(levelName)]
	if !ok {
		return nil, fmt.Errorf("invalid --%s %q: want trace, debug, info, warn, error or crit", logLevelFlag.Name, levelName)
	}
	switch strings.ToLower(format) {
	case "text", "terminal":
		return log.NewTerminalHandlerWithLevel(w, level, color), nil
	case "logfmt", "logfmtms": // op-service's "ms" formats differ only in the timestamp's precision
		return log.LogfmtHandlerWithLevel(w, level), nil
	case "json", "jsonms":
		return log.JSONHandlerWithLevel(w, level), nil
	case "json-pretty":
		return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}), nil
	}
	return nil, fmt.Errorf("invalid --%s %q: want text, terminal, logfmt, logfmtms, json, jsonms or json-pretty", logFormatFlag.Name, format)
}

// quietLogs discards log output unless --log.level was given, for commands whose output is a table or a
// list (op-geth and the program log every block). The returned function restores the logger.
func quietLogs(ctx *cli.Context) (restore func()) {
	if ctx.IsSet(logLevelFlag.Name) {
		return func() {}
	}
	root := log.Root()
	log.SetDefault(log.NewLogger(log.DiscardHandler()))
	return func() { log.SetDefault(root) }
}
