package main

import "github.com/urfave/cli/v2"

// newOpProgramApp is op-program's host CLI, answered by our host: its flags at the top level (with its
// OP_PROGRAM_* variables), the program in process unless --server or --exec, and its configs command.
func newOpProgramApp() *cli.App {
	app := dropInApp(opProgramName, "OP Stack fault proof program host (faultproof's, answering as op-program)",
		`The flags and OP_PROGRAM_* environment variables of op-program's host:
  --server      serve a VM that started the host, on file descriptors 3-6
  --exec PATH   start the program at PATH with the channels on its fds 3-6 and exit with its code
  (neither)     run the program in this process

Interop games: --l2.agreed-prestate with --depset.config and one entry per chain in --l2 and in --network
or --rollup.config and --l2.genesis (comma lists), served to faultproof's interop program.

Exit codes: 0 the claim is valid, 1 the claim is invalid, 2 anything else.`)
	app.Flags = hostFlags
	app.Before = setupLogging
	app.Action = runHost
	app.OnUsageError = oneLineUsageError(hostFlags)
	app.Commands = []*cli.Command{configsCommand}
	return app
}
