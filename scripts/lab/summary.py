"""The closing lines every per-kernel scenario prints: one line per kernel,
the kernels that failed, and the exit status."""


def per_kernel(title, lines, failed):
    """Prints @title, @lines and the verdict; returns the exit status."""
    print("\n%s:" % title)
    for s in lines:
        print("  " + s)
    if failed:
        print("FAILED: " + " ".join(failed))
        return 1
    print("all %d kernels passed" % len(lines))
    return 0
