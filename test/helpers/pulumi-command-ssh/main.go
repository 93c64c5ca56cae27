// An SSH client configured the way pulumi-command v1.2.1 configures its remote connection, for tests against a
// real sshd: provider/pkg/provider/remote/connection.go, connectionBase.SSHConfig (lines 85-147) — with `hostKey`
// set, ssh.ParseAuthorizedKey, ssh.FixedHostKey and HostKeyAlgorithms = [the key's type]; without it,
// ssh.InsecureIgnoreHostKey — then ssh.Dial and one session running the command (remote/command.go).
// Built in GOPATH mode against Debian's golang-golang-x-crypto-dev, so no module download is needed.
//
// usage: pulumi-command-ssh <host:port> <hostKey line or ""> <private key file> <command>
package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/crypto/ssh"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: pulumi-command-ssh <host:port> <hostKey> <private key file> <command>")
		os.Exit(2)
	}
	addr, hostKey, keyFile, command := os.Args[1], os.Args[2], os.Args[3], os.Args[4]

	var hostKeyCallback ssh.HostKeyCallback
	var hostKeyAlgorithms []string
	if hostKey != "" {
		publicKey, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hostKey))
		if err != nil {
			fmt.Fprintf(os.Stderr, "failed to parse host key: %v\n", err)
			os.Exit(2)
		}
		hostKeyCallback = ssh.FixedHostKey(publicKey)
		hostKeyAlgorithms = []string{publicKey.Type()}
	} else {
		hostKeyCallback = ssh.InsecureIgnoreHostKey()
	}

	pem, err := os.ReadFile(keyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	config := &ssh.ClientConfig{
		User:              "root",
		HostKeyCallback:   hostKeyCallback,
		HostKeyAlgorithms: hostKeyAlgorithms,
		Timeout:           10 * time.Second,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
	}
	client, err := ssh.Dial("tcp", addr, config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dial: %v\n", err)
		os.Exit(3)
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		fmt.Fprintf(os.Stderr, "session: %v\n", err)
		os.Exit(4)
	}
	out, err := session.CombinedOutput(command)
	os.Stdout.Write(out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "command: %v\n", err)
		os.Exit(1)
	}
}
