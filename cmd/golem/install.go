package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/golem-lm/golem/kernel"
)

func init() {
	register(command{name: "install", summary: "install the Jupyter kernelspec \"golem\" (Go)", run: runInstall})
}

func runInstall(args []string) error {
	fs := flag.NewFlagSet("install", flag.ContinueOnError)
	user := fs.Bool("user", false, "install for the current user (~/.local/share/jupyter/kernels)")
	sysPrefix := fs.Bool("sys-prefix", false, "install into the Python environment ($VIRTUAL_ENV or python3's sys.prefix)")
	prefix := fs.String("prefix", "", "install into `DIR`/share/jupyter/kernels")
	name := fs.String("name", "golem", "kernelspec name")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: golem install [--user | --sys-prefix | --prefix DIR] [--name golem]\n\nWithout a scope flag the kernelspec goes to the system-wide Jupyter path, as\n`jupyter kernelspec install` does.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	scope, n := "system", 0
	if *user {
		scope, n = "user", n+1
	}
	if *sysPrefix {
		scope, n = "sys-prefix", n+1
	}
	if *prefix != "" {
		scope, n = "prefix", n+1
	}
	if n > 1 {
		return errors.New("choose one of --user, --sys-prefix and --prefix")
	}
	dir, err := kernel.KernelsDir(scope, *prefix)
	if err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("locate the golem binary: %w", err)
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	if resolved, err := filepath.EvalSymlinks(bin); err == nil {
		bin = resolved
	}
	path, err := kernel.InstallKernelspec(dir, *name, kernel.NewKernelspec(bin))
	if err != nil {
		if errors.Is(err, os.ErrPermission) && scope == "system" {
			return fmt.Errorf("%w (try --user or --sys-prefix)", err)
		}
		return err
	}
	fmt.Printf("Installed kernelspec %s in %s\n", *name, path)
	return nil
}
