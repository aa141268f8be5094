import subprocess


def page(lines, cmd):
    c = subprocess.Popen(cmd, shell=True, stdin=subprocess.PIPE)
    stdin = c.stdin
    try:
        for line in lines:
            stdin.write(line.encode())
    except (OSError, KeyboardInterrupt):
        pass
    except Exception as e:
        # Stop the pager at once and let the caller see the error.
        c.terminate()
        raise e
    finally:
        # Closing flushes: the pager may be gone already.
        try:
            stdin.close()
        except BrokenPipeError:
            pass

    # Wait for the pager, whatever the user presses.
    while True:
        try:
            c.wait()
        except KeyboardInterrupt:
            pass
        else:
            break
