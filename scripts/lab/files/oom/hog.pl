# The OOM scenario's memory hog (scripts/lab/files/oom/run.sh): takes
# BALLAST MiB at once, waits for SIGUSR1, then allocates 1 MiB after 1 MiB
# until the OOM killer ends it. Usage: perl hog.pl BALLAST
use strict;
use warnings;
my $go = 0;
$SIG{USR1} = sub { $go = 1 };
my $ballast = 'b' x ($ARGV[0] << 20);
sleep 1 until $go;
my @more;
push @more, 'x' x (1 << 20) while 1;
