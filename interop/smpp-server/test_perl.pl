#!/usr/bin/perl
# Interop test: Perl's Net::SMPP (Debian's libnet-smpp-perl, unmodified) as
# a customer's ESME bound to omnigate's SMPP server (`serve --smpp-listen`).
#
# run.sh starts the server and the SMSC simulator and sets the same
# variables as for test.mjs: SMPP_ADDR, SMPP_SYSTEM_ID, SMPP_PASSWORD,
# OMNIGATE_URL, OMNIGATE_KEY, OMNIGATE_FROM, SMSC_CONTROL, MO_NUMBER.
#
# Each check prints "ok NAME" or "FAIL NAME: detail"; the exit status is
# the number of failures (capped at 100).
#
# Net::SMPP is driven in its asynchronous mode (async => 1) through
# request() below: its synchronous mode discards every PDU that is not the
# awaited response (receipts included) and has no timeout.
use strict;
use warnings;
use Net::SMPP;
use IO::Select;
use HTTP::Tiny;
use JSON::PP;
use Encode qw(encode decode);
use Time::HiRes qw(time sleep);
use POSIX qw(strftime);

sub env { $ENV{$_[0]} // die "$_[0] is not set; run interop/smpp-server/run.sh\n" }
my ($HOST, $PORT) = split /:/, env('SMPP_ADDR');
die "$HOST must be loopback\n" unless $HOST eq '127.0.0.1' || $HOST eq 'localhost';
my $SYSTEM_ID = env('SMPP_SYSTEM_ID');
my $PASSWORD  = env('SMPP_PASSWORD');
my $API       = env('OMNIGATE_URL');
my $KEY       = env('OMNIGATE_KEY');
my $FROM      = env('OMNIGATE_FROM');
my $SMSC      = env('SMSC_CONTROL');
my $MO_NUMBER = env('MO_NUMBER');
my $HANDSET   = '31612345679';
my $http      = HTTP::Tiny->new(timeout => 10);
my $json      = JSON::PP->new->utf8;
binmode STDOUT, ':encoding(UTF-8)';

# command_status values (SMPP 3.4 §5.1.3) and command ids used below.
use constant {
    ESME_ROK => 0x00, ESME_RINVCMDID => 0x03, ESME_RINVBNDSTS => 0x04,
    ESME_RINVPASWD => 0x0E, ESME_RINVSYSID => 0x0F, ESME_RQUERYFAIL => 0x67,
    GENERIC_NACK => 0x80000000,
};

my $failures = 0;
sub check {
    my ($name, $code) = @_;
    my $err = eval { $code->(); undef } // $@;
    if (defined $err && $err ne '') {
        chomp $err;
        $failures++;
        print "FAIL $name: $err\n";
    } else {
        print "ok $name\n";
    }
}
sub want { my ($what, $got, $want) = @_; die "$what: got " . show($got) . ", want " . show($want) . "\n" unless defined $got && $got eq $want }
sub show { defined $_[0] ? "'$_[0]'" : 'undef' }
sub status_name { my $s = shift; my $c = Net::SMPP::status_code->{$s}; sprintf '%s (0x%02X)', $c ? $c->{code} : '?', $s }
sub want_status {
    my ($what, $resp, $want) = @_;
    die sprintf("%s: answered %s, want %s\n", $what, status_name($resp->{status}), status_name($want))
        unless $resp->{status} == $want;
}

# A session: the Net::SMPP socket and the deliver_sm PDUs it received.
my @sessions;
sub session {
    my $smpp = Net::SMPP->new_connect($HOST, port => $PORT, async => 1, timeout => 5)
        or die "cannot connect to $HOST:$PORT: $!\n";
    my $s = { smpp => $smpp, sel => IO::Select->new($smpp), delivered => [] };
    push @sessions, $s;
    return $s;
}

# next_pdu waits up to $timeout seconds for a PDU and handles requests from
# the server: enquire_link is answered, deliver_sm is answered ESME_ROK and
# kept in delivered. Returns the PDU, or undef on a timeout (dies on EOF).
sub next_pdu {
    my ($s, $timeout) = @_;
    return undef unless $s->{sel}->can_read($timeout);
    my $pdu = $s->{smpp}->read_pdu() or die "read_pdu: ${*{$s->{smpp}}}{smpperror}\n";
    if ($pdu->{cmd} == Net::SMPP::CMD_enquire_link) {
        $s->{smpp}->enquire_link_resp(seq => $pdu->{seq});
    } elsif ($pdu->{cmd} == Net::SMPP::CMD_deliver_sm) {
        $s->{smpp}->deliver_sm_resp(seq => $pdu->{seq}, message_id => '');
        push @{ $s->{delivered} }, $pdu;
    }
    return $pdu;
}

# response waits for the response (or a generic_nack) to sequence number
# $seq. Responses may come in any order: others are kept for their callers.
sub response {
    my ($s, $seq, $what, $timeout) = @_;
    my $deadline = time + ($timeout // 10);
    while ((my $left = $deadline - time) > 0) {
        return delete $s->{responses}{$seq} if $s->{responses}{$seq};
        my $pdu = next_pdu($s, $left) or last;
        $s->{responses}{ $pdu->{seq} } = $pdu if $pdu->{cmd} & 0x80000000;
    }
    die "no response to $what within " . ($timeout // 10) . " s\n";
}

# request sends a request with Net::SMPP's method $cmd and waits for its response.
sub request {
    my ($s, $cmd, @args) = @_;
    my $seq = $s->{smpp}->$cmd(@args) or die "$cmd: could not send\n";
    my $resp = response($s, $seq, $cmd);
    my $want = $cmd eq 'enquire_link' ? 'enquire_link_resp' : "${cmd}_resp";
    die "$cmd answered with " . $resp->explain_cmd . "\n" unless $resp->explain_cmd eq $want;
    return $resp;
}

sub bind_as {
    my ($kind, $password) = @_;
    my $s = session();
    my $resp = request($s, "bind_$kind", system_id => $SYSTEM_ID, password => $password // $PASSWORD,
        system_type => '', interface_version => 0x34);
    return ($s, $resp);
}

sub wait_for {
    my ($s, $what, $match, $timeout) = @_;
    my $deadline = time + ($timeout // 30);
    for (;;) {
        my ($hit) = grep { $match->($_) } @{ $s->{delivered} };
        return $hit if $hit;
        my $left = $deadline - time;
        die "timed out after " . ($timeout // 30) . " s waiting for $what\n" if $left <= 0;
        next_pdu($s, $left < 0.2 ? $left : 0.2);
    }
}

sub api_message {
    my $id = shift;
    my $r = $http->get("$API/messages/$id", { headers => { Authorization => "AccessKey $KEY" } });
    die "GET /messages/$id answered $r->{status}\n" unless $r->{status} == 200;
    return $json->decode($r->{content});
}

# Net::SMPP returns TLV values as raw octets: a C-Octet String keeps its NUL.
sub cstr { my $v = shift; return undef unless defined $v; $v =~ s/\0\z//; $v }

# An SMPP 3.4 absolute time (§7.1.1), UTC: YYMMDDhhmmss, tenths, 00, '+'.
sub smpp_time { strftime('%y%m%d%H%M%S', gmtime shift) . '000+' }

my %sub = (source_addr => $FROM, source_addr_ton => 5, source_addr_npi => 0,
           destination_addr => $HANDSET, dest_addr_ton => 1, dest_addr_npi => 1);

# --- binds -----------------------------------------------------------------

my $wrong;
check 'bind with a wrong password is ESME_RINVPASWD' => sub {
    (my $s, $wrong) = bind_as('transceiver', 'wrong123');
    want_status('bind_transceiver', $wrong, ESME_RINVPASWD);
};

# SMPP 3.4 §4.1.2 (likewise §4.1.4, §4.1.6): "The body portion of the SMPP
# bind_transmitter_resp PDU is not returned if the command_status field
# contains a non-zero value".
check 'a failed bind_resp has no body (command_length 16)' => sub {
    want('bind_transceiver_resp body length', length $wrong->{data}, 0);
};

check 'bind with an unknown system_id is ESME_RINVSYSID' => sub {
    my $s = session();
    my $resp = request($s, 'bind_transmitter', system_id => 'nosuchsystem', password => 'secret12');
    want_status('bind_transmitter', $resp, ESME_RINVSYSID);
};

check 'enquire_link before a bind is answered' => sub {
    my $s = session();
    want_status('enquire_link', request($s, 'enquire_link'), ESME_ROK);
};

# --- a transceiver ----------------------------------------------------------

my ($trx, $bound) = bind_as('transceiver');
check 'bind_transceiver' => sub {
    want_status('bind_transceiver', $bound, ESME_ROK);
    die "bind_transceiver_resp has no system_id\n" if ($bound->{system_id} // '') eq '';
};

my $id;
check 'submit_sm with registered_delivery 1 gets a DELIVRD receipt as deliver_sm' => sub {
    my $resp = request($trx, 'submit_sm', %sub, registered_delivery => 1, short_message => 'Hello from Net::SMPP');
    want_status('submit_sm', $resp, ESME_ROK);
    $id = $resp->{message_id};
    die "message_id '$id' is not 32 hex\n" unless $id =~ /^[0-9a-f]{32}$/;
    my $dlr = wait_for($trx, 'the receipt', sub { ($_[0]{short_message} // '') =~ /^id:\Q$id\E / });
    want('esm_class & 0x3c', $dlr->{esm_class} & 0x3c, 0x04);
    die "receipt text: $dlr->{short_message}\n" unless $dlr->{short_message} =~
        /^id:\Q$id\E sub:\d{3} dlvrd:\d{3} submit date:\d{10} done date:\d{10} stat:DELIVRD err:\d{3} text:/;
    want('source_addr', $dlr->{source_addr}, $HANDSET);
    want('destination_addr', $dlr->{destination_addr}, $FROM);
    # §5.3.2.12: receipted_message_id is a C-Octet String (NUL-terminated).
    my $rid = $dlr->{receipted_message_id};
    die "no receipted_message_id TLV\n" unless defined $rid;
    want('receipted_message_id (raw, with its NUL)', $rid, "$id\0");
    want('message_state TLV', unpack('C', $dlr->{message_state} // "\xff"), 2);
    want('API body', api_message($id)->{body}, 'Hello from Net::SMPP');
};

check 'query_sm on a delivered message: DELIVERED with a final_date' => sub {
    my $resp = request($trx, 'query_sm', message_id => $id, source_addr => $FROM, source_addr_ton => 5, source_addr_npi => 0);
    want_status('query_sm', $resp, ESME_ROK);
    want('message_id', $resp->{message_id}, $id);
    want('message_state', $resp->{message_state}, 2);
    # §4.8.2: final_date is the time the message reached its final state.
    die "final_date '$resp->{final_date}' is not an SMPP absolute time\n"
        unless $resp->{final_date} =~ /^\d{12}\d\d\d[+-]$/;
    my $unknown = request($trx, 'query_sm', message_id => 'nosuchmessage', source_addr => $FROM);
    want_status('query_sm unknown id', $unknown, ESME_RQUERYFAIL);
};

check 'cancel_sm deletes a message scheduled with an absolute schedule_delivery_time' => sub {
    my $resp = request($trx, 'submit_sm', %sub, schedule_delivery_time => smpp_time(time + 3600), short_message => 'Later, maybe');
    want_status('scheduled submit_sm', $resp, ESME_ROK);
    my $sid = $resp->{message_id};
    my $q = request($trx, 'query_sm', message_id => $sid, source_addr => $FROM, source_addr_ton => 5);
    want('scheduled message_state', $q->{message_state}, 1);
    want('scheduled final_date', $q->{final_date}, '');
    want_status('cancel_sm', request($trx, 'cancel_sm', message_id => $sid, %sub), ESME_ROK);
    want_status('cancel_sm again', request($trx, 'cancel_sm', message_id => $sid, %sub), 0x11);
};

check 'replace_sm changes a message scheduled with a relative time' => sub {
    my $resp = request($trx, 'submit_sm', %sub, schedule_delivery_time => '000000010000000R', short_message => 'Meeting at ten');
    want_status('scheduled submit_sm', $resp, ESME_ROK);
    my $sid = $resp->{message_id};
    my $r = request($trx, 'replace_sm', message_id => $sid, source_addr => $FROM, source_addr_ton => 5,
        source_addr_npi => 0, short_message => 'Meeting at eleven');
    want_status('replace_sm', $r, ESME_ROK);
    my $m = api_message($sid);
    want('API body', $m->{body}, 'Meeting at eleven');
    want('API status', $m->{recipients}{items}[0]{status}, 'scheduled');
    want_status('replace_sm unknown id', request($trx, 'replace_sm', message_id => 'nosuchmessage',
        source_addr => $FROM, short_message => 'x'), 0x0C);
    want_status('cancel_sm', request($trx, 'cancel_sm', message_id => $sid, %sub), ESME_ROK);
};

# data_coding 1 (IA5): with 0, omnigate's "SMSC default alphabet" is GSM
# 03.38, where the octet 0x5F of '_' is '§'.
check 'a long text in the message_payload TLV (data_coding 1) becomes one message' => sub {
    my $body = join ' ', ('Net::SMPP carries this text in message_payload.') x 6;
    my $resp = request($trx, 'submit_sm', %sub, data_coding => 1, short_message => '', message_payload => $body);
    want_status('submit_sm', $resp, ESME_ROK);
    my $m = api_message($resp->{message_id});
    want('API body', $m->{body}, $body);
    want('parts', $m->{recipients}{items}[0]{messagePartCount}, 2);
};

# Two parts with a concatenation UDH (05 00 03 ref total seq), esm_class
# 0x40, both sent before waiting; the check after this one sends them one
# at a time, as the loop of synchronous submit_sm in Net::SMPP's own POD
# does. omnigate answers each part when it is stored, with the message's id
# (docs/smpp-server.md).
my @parts = (substr('First part of a concatenated message. ' x 5, 0, 153), 'And its second part.');
sub udh { my ($ref, $n) = @_; pack 'C6', 5, 0, 3, $ref, scalar @parts, $n }
check 'a long text in two UDH parts (esm_class 0x40) becomes one message' => sub {
    my @seq = map { $trx->{smpp}->submit_sm(%sub, esm_class => 0x40, short_message => udh(0x2a, $_ + 1) . $parts[$_]) } 0 .. $#parts;
    my @resp = map { response($trx, $_, 'a part') } @seq;
    want_status("part $_", $resp[$_ - 1], ESME_ROK) for 1 .. @parts;
    want('message id of part 2', $resp[1]{message_id}, $resp[0]{message_id});
    my $m = api_message($resp[0]{message_id});
    want('API body', $m->{body}, join '', @parts);
    want('parts', $m->{recipients}{items}[0]{messagePartCount}, 2);
};

# A synchronous client (window 1: Net::SMPP's default mode, the multipart
# loop in its POD) sends a part and waits for its submit_sm_resp before the
# next. Each part is answered on its own (SMPP 3.4 runs the response timer,
# §7.2, per request), every part with the one message id.
check 'UDH parts sent one at a time, each answered before the next, with one id' => sub {
    my @resp = map {
        my $seq = $trx->{smpp}->submit_sm(%sub, esm_class => 0x40, short_message => udh(0x2b, $_) . $parts[$_ - 1]);
        my $r = response($trx, $seq, "part $_ before the next is sent", 3);
        want_status("part $_", $r, ESME_ROK);
        $r;
    } 1, 2;
    want('message id of part 2', $resp[1]{message_id}, $resp[0]{message_id});
    my $m = api_message($resp[0]{message_id});
    want('API body', $m->{body}, join '', @parts);
    want('parts', $m->{recipients}{items}[0]{messagePartCount}, 2);
};

check 'data_coding 8 (UCS-2) text' => sub {
    my $text = "Gr\x{fc}\x{df}e \x{2713} \x{41f}\x{440}\x{438}\x{432}\x{435}\x{442} \x{1F600}";
    my $resp = request($trx, 'submit_sm', %sub, data_coding => 8, short_message => encode('UTF-16BE', $text));
    want_status('submit_sm', $resp, ESME_ROK);
    want('API body', api_message($resp->{message_id})->{body}, $text);
};

check 'an unknown command_id is answered generic_nack ESME_RINVCMDID' => sub {
    # Net::SMPP has no method for an arbitrary command: its req_backend sends one.
    my $seq = $trx->{smpp}->req_backend(0x00000099, '', $trx->{smpp}, async => 1);
    my $resp = response($trx, $seq, 'command 0x99');
    want('command_id', sprintf('0x%08x', $resp->{cmd}), sprintf('0x%08x', GENERIC_NACK));
    want_status('generic_nack', $resp, ESME_RINVCMDID);
};

check 'enquire_link and unbind on the transceiver' => sub {
    want_status('enquire_link', request($trx, 'enquire_link'), ESME_ROK);
    want_status('unbind', request($trx, 'unbind'), ESME_ROK);
};

# --- a transmitter and a receiver -------------------------------------------

check 'bind_transmitter submits and unbinds' => sub {
    my ($s, $resp) = bind_as('transmitter');
    want_status('bind_transmitter', $resp, ESME_ROK);
    want_status('submit_sm', request($s, 'submit_sm', %sub, short_message => 'From a transmitter'), ESME_ROK);
    want_status('unbind', request($s, 'unbind'), ESME_ROK);
};

my $refused;
sub inject {
    my $text = shift;
    my $r = $http->post("$SMSC/inject", { content => $json->encode({ from => $HANDSET, to => $MO_NUMBER, text => $text }) });
    die "POST /inject answered $r->{status}: $r->{content}\n" unless $r->{success};
}

check 'bind_receiver gets MO messages as deliver_sm, and may not submit' => sub {
    my ($s, $resp) = bind_as('receiver');
    want_status('bind_receiver', $resp, ESME_ROK);
    $refused = request($s, 'submit_sm', %sub, short_message => 'no');
    want_status('submit_sm on a receiver', $refused, ESME_RINVBNDSTS);

    my $text = 'Hello from a handset ' . int(time);
    inject($text);
    my $mo = wait_for($s, 'the MO deliver_sm', sub { ($_[0]{short_message} // '') eq $text });
    want('esm_class & 0x3c', $mo->{esm_class} & 0x3c, 0);
    want('data_coding', $mo->{data_coding}, 0);
    want('source_addr', $mo->{source_addr}, $HANDSET);
    want('destination_addr', $mo->{destination_addr}, $MO_NUMBER);

    my $uni = "\x{41f}\x{440}\x{438}\x{432}\x{435}\x{442} " . int(time);
    inject($uni);
    my $umo = wait_for($s, 'the UCS-2 MO', sub { ($_[0]{data_coding} // 0) == 8 });
    want('UCS-2 MO text', decode('UTF-16BE', $umo->{short_message} // $umo->{message_payload}), $uni);

    # Answered with deliver_sm_resp: not delivered again.
    my $until = time + 1.5;
    next_pdu($s, $until - time) while time < $until;
    want('deliveries of the MO', scalar(grep { ($_->{short_message} // '') eq $text } @{ $s->{delivered} }), 1);
    want_status('unbind', request($s, 'unbind'), ESME_ROK);
};

# SMPP 3.4 §4.4.2: "The submit_sm_resp PDU Body is not returned if the
# command_status field contains a non-zero value."
check 'a failed submit_sm_resp has no body (command_length 16)' => sub {
    die "no refused submit_sm_resp (see the receiver check)\n" unless $refused;
    want('submit_sm_resp body length', length $refused->{data}, 0);
};

$_->{smpp}->close for @sessions;
print $failures ? "$failures check(s) failed\n" : "all checks passed\n";
exit($failures > 100 ? 100 : $failures);
