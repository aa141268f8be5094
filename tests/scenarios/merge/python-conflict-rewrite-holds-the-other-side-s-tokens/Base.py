import subprocess


def page(lines, cmd):
    c = subprocess.Popen(cmd, shell=True, stdin=subprocess.PIPE)
    stdin = c.stdin
    try:
        for line in lines:
            stdin.write(line.encode())
    except (OSError, KeyboardInterrupt):
        pass
    else:
        stdin.close()

    # Wait for the pager, whatever the user presses.
    while True:
        try:
            c.wait()
        except KeyboardInterrupt:
            pass
        else:
            break
