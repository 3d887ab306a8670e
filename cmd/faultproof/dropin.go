package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
)

// The names under which the binary answers as the tool op-challenger expects (see appFor): a symlink
// with one of these names makes it a drop-in for Cannon, op-program's host or kona-host.
const (
	cannonName    = "cannon"
	opProgramName = "op-program"
	konaHostName  = "kona-host"
)

// appFor returns the CLI the binary answers with when started as args[0] (Cannon's, op-program's or
// kona-host's under their names, faultproof's under any other) and the arguments to run it with.
func appFor(args []string) (*cli.App, []string) {
	if len(args) == 0 {
		return newApp(), []string{"faultproof"}
	}
	switch filepath.Base(args[0]) {
	case cannonName:
		return newCannonApp(), args
	case opProgramName:
		return newOpProgramApp(), args
	case konaHostName:
		return newKonaHostApp(), konaArgs(args)
	}
	return newApp(), args
}

// dropInApp is the shape of the drop-in CLIs: our error handling and exit codes.
func dropInApp(name, usage, description string) *cli.App {
	return &cli.App{
		Name:                 name,
		Usage:                usage,
		Description:          description,
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {},
	}
}

// newCannonApp is Cannon's CLI (multicannon's commands), answered by our VM.
func newCannonApp() *cli.App {
	app := dropInApp(cannonName, "MIPS fault proof VM (faultproof's, answering as Cannon)",
		"The commands and flags of Cannon's multicannon: load-elf, run, witness and list, for every state version "+
			"listed by 'list'. Exit codes: 0 when the command succeeds (run: whatever the program's exit code, which is "+
			"in the final state), 2 on any failure.")
	app.Commands = []*cli.Command{vmLoadELFCommand, vmWitnessCommand, vmRunCommand, vmListCommand}
	return app
}

var installLinksForceFlag = &cli.BoolFlag{
	Name:  "force",
	Usage: "Replace files that are in the way",
}

var installLinksCommand = &cli.Command{
	Name:      "install-links",
	Usage:     "Create the symlinks cannon, op-program and kona-host to this binary in DIR",
	ArgsUsage: "DIR",
	Description: `Started under one of these names, the binary answers as that tool, with its commands, flags and
environment variables, so that op-challenger can run it:

  cannon       Cannon (multicannon): run, witness, load-elf, list       --cannon-bin, --cannon-kona-bin
  op-program   op-program's host; --server serves a VM                  --cannon-server
  kona-host    kona-host's single command; --server serves a VM         --cannon-kona-server

The links point to this binary's absolute path. An existing link to it is left as it is; anything else in
the way is an error unless --force.`,
	Flags:  []cli.Flag{installLinksForceFlag},
	Action: installLinks,
}

func installLinks(ctx *cli.Context) error {
	if ctx.NArg() != 1 {
		return errors.New("install-links takes one argument: the directory to create the links in")
	}
	dir := ctx.Args().First()
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find this binary: %w", err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return fmt.Errorf("cannot find this binary: %w", err)
	}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return fmt.Errorf("install-links: %s is not a directory", dir)
	}
	for _, name := range []string{cannonName, opProgramName, konaHostName} {
		link := filepath.Join(dir, name)
		if target, err := os.Readlink(link); err == nil && target == self {
			fmt.Printf("%s -> %s (already there)\n", link, self)
			continue
		}
		if _, err := os.Lstat(link); err == nil {
			if !ctx.Bool(installLinksForceFlag.Name) {
				return fmt.Errorf("install-links: %s exists (--force replaces it)", link)
			}
			if err := os.Remove(link); err != nil {
				return fmt.Errorf("install-links: %w", err)
			}
		}
		if err := os.Symlink(self, link); err != nil {
			return fmt.Errorf("install-links: %w", err)
		}
		fmt.Printf("%s -> %s\n", link, self)
	}
	return nil
}
