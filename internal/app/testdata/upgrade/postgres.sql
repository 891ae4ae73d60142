--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
--



SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: access_keys; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE access_keys (
    id text NOT NULL,
    account_id text NOT NULL,
    hash bytea NOT NULL,
    test boolean NOT NULL,
    hint text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: accounts; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE accounts (
    id text NOT NULL,
    name text NOT NULL,
    currency text NOT NULL,
    balance bigint DEFAULT 0 NOT NULL,
    report_url text DEFAULT ''::text NOT NULL,
    signing_key text NOT NULL,
    created_at bigint NOT NULL,
    inbound_url text DEFAULT ''::text NOT NULL,
    payment text DEFAULT 'prepaid'::text NOT NULL,
    credit_limit bigint DEFAULT 0 NOT NULL,
    alert_url text DEFAULT ''::text NOT NULL,
    alert_emails text DEFAULT ''::text NOT NULL,
    topup_enabled boolean DEFAULT false NOT NULL,
    topup_threshold bigint DEFAULT 0 NOT NULL,
    topup_amount bigint DEFAULT 0 NOT NULL,
    topup_consent text DEFAULT ''::text NOT NULL,
    default_purpose text DEFAULT 'transactional'::text NOT NULL,
    transactional_to_opted_out boolean DEFAULT false NOT NULL,
    help_text text DEFAULT ''::text NOT NULL,
    optout_instruction boolean DEFAULT false NOT NULL,
    window_start bigint DEFAULT 480 NOT NULL,
    window_end bigint DEFAULT 1260 NOT NULL,
    sender_relaxed text DEFAULT ''::text NOT NULL,
    suspended text DEFAULT ''::text NOT NULL,
    country_windows text DEFAULT ''::text NOT NULL,
    sender_fallback text DEFAULT ''::text NOT NULL,
    content_rules text DEFAULT ''::text NOT NULL
);


--
-- Name: complaints; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE complaints (
    id bigint NOT NULL,
    account_id text NOT NULL,
    recipient text DEFAULT ''::text NOT NULL,
    source text NOT NULL,
    note text DEFAULT ''::text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: complaints_id_seq; Type: SEQUENCE; Schema: -; Owner: -
--

ALTER TABLE complaints ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME complaints_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: compliance_decisions; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE compliance_decisions (
    id bigint NOT NULL,
    account_id text NOT NULL,
    message_id text DEFAULT ''::text NOT NULL,
    recipient text DEFAULT ''::text NOT NULL,
    rule text NOT NULL,
    outcome text NOT NULL,
    reason text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: compliance_decisions_id_seq; Type: SEQUENCE; Schema: -; Owner: -
--

ALTER TABLE compliance_decisions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME compliance_decisions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: connectors; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE connectors (
    name text NOT NULL,
    kind text NOT NULL,
    settings text NOT NULL,
    enabled boolean NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: consents; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE consents (
    id bigint NOT NULL,
    account_id text NOT NULL,
    recipient text NOT NULL,
    purpose text NOT NULL,
    action text NOT NULL,
    legal_age boolean DEFAULT false NOT NULL,
    categories text DEFAULT ''::text NOT NULL,
    source text NOT NULL,
    evidence text DEFAULT '{}'::text NOT NULL,
    actor text DEFAULT ''::text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: consents_id_seq; Type: SEQUENCE; Schema: -; Owner: -
--

ALTER TABLE consents ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME consents_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: dnd; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE dnd (
    registry text NOT NULL,
    prefix text NOT NULL,
    listed_at bigint NOT NULL,
    imported_at bigint NOT NULL,
    scope text DEFAULT 'all'::text NOT NULL
);


--
-- Name: inbound_parts; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE inbound_parts (
    connector text NOT NULL,
    source text NOT NULL,
    destination text NOT NULL,
    ref bigint NOT NULL,
    total bigint NOT NULL,
    part bigint NOT NULL,
    body text NOT NULL,
    received_at bigint NOT NULL
);


--
-- Name: jobs; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE jobs (
    id bigint NOT NULL,
    kind text NOT NULL,
    account_id text NOT NULL,
    message_id text DEFAULT ''::text NOT NULL,
    payload bytea,
    attempts bigint DEFAULT 0 NOT NULL,
    run_at bigint NOT NULL,
    last_error text DEFAULT ''::text NOT NULL,
    lease_owner text DEFAULT ''::text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: jobs_id_seq; Type: SEQUENCE; Schema: -; Owner: -
--

ALTER TABLE jobs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME jobs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: ledger; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE ledger (
    id bigint NOT NULL,
    account_id text NOT NULL,
    kind text NOT NULL,
    amount bigint NOT NULL,
    currency text NOT NULL,
    balance_after bigint NOT NULL,
    reference text DEFAULT ''::text NOT NULL,
    reason text DEFAULT ''::text NOT NULL,
    actor text DEFAULT ''::text NOT NULL,
    idempotency_key text DEFAULT ''::text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: ledger_id_seq; Type: SEQUENCE; Schema: -; Owner: -
--

ALTER TABLE ledger ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME ledger_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: marketing_senders; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE marketing_senders (
    account_id text NOT NULL,
    recipient text NOT NULL,
    originator text NOT NULL,
    last_at bigint NOT NULL
);


--
-- Name: messages; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE messages (
    id text NOT NULL,
    account_id text NOT NULL,
    channel text NOT NULL,
    direction text NOT NULL,
    type text NOT NULL,
    originator text NOT NULL,
    body text NOT NULL,
    reference text DEFAULT ''::text NOT NULL,
    report_url text DEFAULT ''::text NOT NULL,
    validity bigint DEFAULT 0 NOT NULL,
    gateway bigint DEFAULT 0 NOT NULL,
    type_details text DEFAULT '{}'::text NOT NULL,
    datacoding text NOT NULL,
    mclass bigint NOT NULL,
    scheduled_at bigint DEFAULT 0 NOT NULL,
    created_at bigint NOT NULL,
    purpose text DEFAULT 'transactional'::text NOT NULL,
    categories text DEFAULT ''::text NOT NULL,
    compliance text DEFAULT ''::text NOT NULL
);


--
-- Name: numbers; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE numbers (
    number text NOT NULL,
    account_id text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: pending_receipts; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE pending_receipts (
    connector text NOT NULL,
    smsc_id text NOT NULL,
    receipt_key text NOT NULL,
    status text NOT NULL,
    reason text DEFAULT ''::text NOT NULL,
    error_code bigint DEFAULT 0 NOT NULL,
    status_at bigint NOT NULL,
    received_at bigint NOT NULL
);


--
-- Name: prices; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE prices (
    account_id text DEFAULT ''::text NOT NULL,
    channel text NOT NULL,
    country text DEFAULT ''::text NOT NULL,
    prefix text DEFAULT ''::text NOT NULL,
    currency text NOT NULL,
    price bigint NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: proof_cases; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE proof_cases (
    id text NOT NULL,
    account_id text NOT NULL,
    recipient text DEFAULT ''::text NOT NULL,
    reason text NOT NULL,
    opened_by text NOT NULL,
    status text NOT NULL,
    due_at bigint NOT NULL,
    proof text DEFAULT ''::text NOT NULL,
    created_at bigint NOT NULL,
    answered_at bigint DEFAULT 0 NOT NULL
);


--
-- Name: realtime_alerts; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE realtime_alerts (
    app_id text NOT NULL,
    day text NOT NULL,
    limit_name text NOT NULL,
    threshold bigint NOT NULL
);


--
-- Name: realtime_apps; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE realtime_apps (
    id text NOT NULL,
    account_id text NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    app_key text NOT NULL,
    secret text NOT NULL,
    previous_secret text DEFAULT ''::text NOT NULL,
    previous_expires_at bigint DEFAULT 0 NOT NULL,
    enabled boolean NOT NULL,
    max_connections bigint DEFAULT 0 NOT NULL,
    max_messages_day bigint DEFAULT 0 NOT NULL,
    webhook_url text DEFAULT ''::text NOT NULL,
    webhook_events text DEFAULT ''::text NOT NULL,
    client_event_rate bigint DEFAULT 0 NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: realtime_errors; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE realtime_errors (
    id bigint NOT NULL,
    account_id text NOT NULL,
    app_id text NOT NULL,
    code bigint NOT NULL,
    message text NOT NULL,
    ip text NOT NULL,
    at bigint NOT NULL
);


--
-- Name: realtime_errors_id_seq; Type: SEQUENCE; Schema: -; Owner: -
--

ALTER TABLE realtime_errors ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME realtime_errors_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: realtime_usage; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE realtime_usage (
    app_id text NOT NULL,
    day text NOT NULL,
    messages bigint NOT NULL
);


--
-- Name: recipient_parts; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE recipient_parts (
    message_id text NOT NULL,
    seq bigint NOT NULL,
    part bigint NOT NULL,
    account_id text NOT NULL,
    connector text NOT NULL,
    smsc_id text NOT NULL,
    status text NOT NULL,
    status_error_code bigint DEFAULT 0 NOT NULL,
    status_at bigint NOT NULL
);


--
-- Name: recipients; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE recipients (
    message_id text NOT NULL,
    seq bigint NOT NULL,
    account_id text NOT NULL,
    address text NOT NULL,
    country text NOT NULL,
    country_prefix bigint NOT NULL,
    status text NOT NULL,
    status_at bigint DEFAULT 0 NOT NULL,
    status_reason text DEFAULT ''::text NOT NULL,
    status_error_code bigint DEFAULT 0 NOT NULL,
    part_count bigint NOT NULL,
    length bigint NOT NULL,
    price bigint DEFAULT 0 NOT NULL,
    price_currency text DEFAULT ''::text NOT NULL,
    connector text DEFAULT ''::text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: reviews; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE reviews (
    message_id text NOT NULL,
    account_id text NOT NULL,
    rule text NOT NULL,
    reason text NOT NULL,
    status text NOT NULL,
    decided_by text DEFAULT ''::text NOT NULL,
    created_at bigint NOT NULL,
    decided_at bigint DEFAULT 0 NOT NULL
);


--
-- Name: routes; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE routes (
    id bigint NOT NULL,
    account_id text DEFAULT ''::text NOT NULL,
    prefix text DEFAULT ''::text NOT NULL,
    country text DEFAULT ''::text NOT NULL,
    connectors text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: routes_id_seq; Type: SEQUENCE; Schema: -; Owner: -
--

ALTER TABLE routes ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME routes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: schema_migrations; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    applied_at bigint NOT NULL
);


--
-- Name: senders; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE senders (
    account_id text NOT NULL,
    originator text NOT NULL,
    status text NOT NULL,
    requested_by text DEFAULT ''::text NOT NULL,
    decided_by text DEFAULT ''::text NOT NULL,
    note text DEFAULT ''::text NOT NULL,
    created_at bigint NOT NULL,
    decided_at bigint DEFAULT 0 NOT NULL
);


--
-- Name: suppressions; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE suppressions (
    account_id text NOT NULL,
    recipient text NOT NULL,
    reason text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: topups; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE topups (
    id text NOT NULL,
    account_id text NOT NULL,
    amount bigint NOT NULL,
    currency text NOT NULL,
    status text NOT NULL,
    provider text NOT NULL,
    automatic boolean NOT NULL,
    idempotency_key text DEFAULT ''::text NOT NULL,
    requested_by text DEFAULT ''::text NOT NULL,
    created_at bigint NOT NULL,
    settled_at bigint DEFAULT 0 NOT NULL
);


--
-- Name: usage_alerts; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE usage_alerts (
    account_id text NOT NULL,
    metric text NOT NULL,
    channel text DEFAULT ''::text NOT NULL,
    period text NOT NULL,
    period_start bigint NOT NULL,
    threshold bigint NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: usage_counters; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE usage_counters (
    account_id text NOT NULL,
    metric text NOT NULL,
    channel text DEFAULT ''::text NOT NULL,
    period text NOT NULL,
    period_start bigint NOT NULL,
    used bigint NOT NULL
);


--
-- Name: usage_limits; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE usage_limits (
    account_id text NOT NULL,
    metric text NOT NULL,
    channel text DEFAULT ''::text NOT NULL,
    period text NOT NULL,
    limit_value bigint NOT NULL,
    policy text NOT NULL
);


--
-- Data for Name: access_keys; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO access_keys VALUES ('01a23b53d9f77f63f9308295fe71a03c', '01a23b53d9f7230745bf95b68b4cd0f1', '\x6f0908c9f6fdb3f3768f3d2bf088a30df53f194831f0b840966dd1d4346081d5', false, 'DxS9', 1796291680759082);
INSERT INTO access_keys VALUES ('01a23b53d9f725941ee3fb896f6e74f2', '01a23b53d9f7230745bf95b68b4cd0f1', '\x553f55b9129e031ecd5024472edc0ad879dc16eae06c5465b26ef80c26b8b0f1', true, 'mMyu', 1796291680759084);
INSERT INTO access_keys VALUES ('01a23b53da54198042c24c8a8b63df1b', '01a23b53da5400386cf85d02b77a4edf', '\x630ceaf163ee30c3d6d632940b8f6d603cfc1a5bbe5000926c38a26bd86f742a', false, '7vkT', 1796291680852231);
INSERT INTO access_keys VALUES ('01a23b53da54034146858e00db968312', '01a23b53da5400386cf85d02b77a4edf', '\x9d97146a13b9b9fcf9a7cec6259889dcc3bf662415021e85cda6bb6bec6969b4', true, 'PkJW', 1796291680852233);


--
-- Data for Name: accounts; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO accounts VALUES ('01a23b53da5400386cf85d02b77a4edf', 'demo', 'EUR', 100000000, '', 'VCtBVfaT2DsghFQpA2TEE9lZfHXx5ydilfLBWhSX', 1796291680852228, '', 'prepaid', 0, '', '', false, 0, 0, '', 'transactional', false, '', false, 480, 1260, '', '', '', '', '');
INSERT INTO accounts VALUES ('01a23b53d9f7230745bf95b68b4cd0f1', 'fixture', 'EUR', 186780000, '', 'OzN9VckAAIiFgvp7U8Z78RKg61UnaWRwnHR8kdAo', 1796291680759076, 'http://127.0.0.1:34565/inbound', 'prepaid', 0, 'http://127.0.0.1:34565/alerts', 'ops@example.com', true, 5000000, 50000000, 'switched on by api key 01a23b53d9f77f63f9308295fe71a03c at 2026-12-03T09:54:41Z', 'transactional', false, 'Fixture Ltd, support@example.com', false, 480, 1260, '', '', 'FR=09:00-20:00', '', '');


--
-- Data for Name: complaints; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO complaints OVERRIDING SYSTEM VALUE VALUES (1, '01a23b53d9f7230745bf95b68b4cd0f1', '31655500002', 'carrier', 'reported as spam', 1796291682074213);


--
-- Data for Name: compliance_decisions; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO compliance_decisions OVERRIDING SYSTEM VALUE VALUES (1, '01a23b53d9f7230745bf95b68b4cd0f1', '01a23b53dd7b8c6a8c2a70f301182efe', '31655500001', 'quiet_hours', 'defer', 'outside 08:00-21:00 in the recipient''s local time', 1796291681659551);
INSERT INTO compliance_decisions OVERRIDING SYSTEM VALUE VALUES (2, '01a23b53d9f7230745bf95b68b4cd0f1', '01a23b53dd8b7eca0b743eda7cda0f61', '', 'content.link_shortener', 'hold', 'a link shortener hides where the link goes', 1796291681675170);
INSERT INTO compliance_decisions OVERRIDING SYSTEM VALUE VALUES (3, '01a23b53d9f7230745bf95b68b4cd0f1', '01a23b53dd977670f588c7e909f207ce', '', 'content.credentials_request', 'hold', 'asks for a PIN, password, card number or login details', 1796291681687804);
INSERT INTO compliance_decisions OVERRIDING SYSTEM VALUE VALUES (4, '01a23b53d9f7230745bf95b68b4cd0f1', '01a23b53ddadf8679aa066f51b8e08d0', '', 'content.iban', 'hold', 'a bank account number (IBAN)', 1796291681709116);
INSERT INTO compliance_decisions OVERRIDING SYSTEM VALUE VALUES (5, '01a23b53d9f7230745bf95b68b4cd0f1', '01a23b53ddc06b26908438f2b7165fca', '', 'content.card_number', 'reject', 'a payment card number (passes the Luhn check)', 1796291681728105);
INSERT INTO compliance_decisions OVERRIDING SYSTEM VALUE VALUES (6, '01a23b53d9f7230745bf95b68b4cd0f1', '01a23b53ddc53a2e84bd375497d69888', '', 'sender.identity', 'reject', 'alphanumeric sender "Unknown" is not registered and approved for this account (register it, then an operator approves it)', 1796291681733434);
INSERT INTO compliance_decisions OVERRIDING SYSTEM VALUE VALUES (7, '01a23b53d9f7230745bf95b68b4cd0f1', '01a23b53dec40b28f33f25cb3e7a14ba', '31655500002', 'consent.opt_in', 'reject', 'marketing needs the recipient''s opt-in, and there is none on record', 1796291681988550);
INSERT INTO compliance_decisions OVERRIDING SYSTEM VALUE VALUES (8, '01a23b53d9f7230745bf95b68b4cd0f1', '01a23b53dec643561137b5e14353db13', '31655500002', 'suppression', 'reject', 'the recipient is on the account''s suppression list (opt_out)', 1796291681990383);


--
-- Data for Name: connectors; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO connectors VALUES ('carrier-failing', 'smpp', '{"host":"127.0.0.1","port":36743,"system_id":"fixture","window":10,"reconnect_min":"200ms","reconnect_max":"5s"}', true, 1796291680763725);
INSERT INTO connectors VALUES ('carrier-expiring', 'smpp', '{"host":"127.0.0.1","port":34815,"system_id":"fixture","window":10,"reconnect_min":"200ms","reconnect_max":"5s"}', true, 1796291680764555);
INSERT INTO connectors VALUES ('carrier-silent', 'smpp', '{"host":"127.0.0.1","port":42243,"system_id":"fixture","window":10,"reconnect_min":"200ms","reconnect_max":"5s"}', true, 1796291680765184);


--
-- Data for Name: consents; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO consents OVERRIDING SYSTEM VALUE VALUES (1, '01a23b53d9f7230745bf95b68b4cd0f1', '31655500001', 'marketing', 'opt_in', true, 'alcohol', 'web_form', '{"formUrl":"https://shop.example.com/signup","ip":"203.0.113.7","text":"Yes, send me offers. I am over 18.","userAgent":"Mozilla/5.0 (fixture)"}', 'api key 01a23b53d9f77f63f9308295fe71a03c for signup form', 1768037400000000);
INSERT INTO consents OVERRIDING SYSTEM VALUE VALUES (2, '01a23b53d9f7230745bf95b68b4cd0f1', '31655500002', 'marketing', 'opt_in', false, '', 'api', '{"reference":"order-1001","text":"checkbox at checkout"}', 'api key 01a23b53d9f77f63f9308295fe71a03c', 1796291681337676);
INSERT INTO consents OVERRIDING SYSTEM VALUE VALUES (3, '01a23b53d9f7230745bf95b68b4cd0f1', '31655500003', 'marketing', 'opt_in', true, '', 'import', '{"text":"paper form 17"}', 'api key 01a23b53d9f77f63f9308295fe71a03c', 1764583200000000);
INSERT INTO consents OVERRIDING SYSTEM VALUE VALUES (4, '01a23b53d9f7230745bf95b68b4cd0f1', '31655500002', 'marketing', 'opt_out', false, '', 'keyword', '{"keyword":"STOP","language":"nl","reference":"01a23b53de8826e3009a7aed1c7e1ec1","text":"STOP","to":"3197010000001"}', 'recipient', 1796291681928486);


--
-- Data for Name: dnd; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO dnd VALUES ('IN-NCPR', '919812345678', 1736899200000000, 1796291681271621, 'marketing');
INSERT INTO dnd VALUES ('IN-NCPR', '9197', 1796291681271621, 1796291681271621, 'marketing');


--
-- Data for Name: inbound_parts; Type: TABLE DATA; Schema: -; Owner: -
--



--
-- Data for Name: jobs; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO jobs OVERRIDING SYSTEM VALUE VALUES (17, 'send', '01a23b53d9f7230745bf95b68b4cd0f1', '01a23b53dd6ab2247230b6d126b83cab', NULL, 0, 4070941200000000, '', '', 1796291681642411);
INSERT INTO jobs OVERRIDING SYSTEM VALUE VALUES (18, 'send', '01a23b53d9f7230745bf95b68b4cd0f1', '01a23b53dd73971644f1528d07f7175f', NULL, 0, 4084000200000000, '', '', 1796291681651657);
INSERT INTO jobs OVERRIDING SYSTEM VALUE VALUES (19, 'send', '01a23b53d9f7230745bf95b68b4cd0f1', '01a23b53dd7b8c6a8c2a70f301182efe', NULL, 0, 4070934000000000, '', '', 1796291681659551);
INSERT INTO jobs OVERRIDING SYSTEM VALUE VALUES (20, 'send', '01a23b53d9f7230745bf95b68b4cd0f1', '01a23b53dd8b7eca0b743eda7cda0f61', NULL, 0, 4611686018427387904, '', '', 1796291681675170);


--
-- Data for Name: ledger; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (1, '01a23b53d9f7230745bf95b68b4cd0f1', 'adjustment', 100000000, 'EUR', 100000000, '', 'opening balance', 'account create', '', 1796291680759076);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (2, '01a23b53da5400386cf85d02b77a4edf', 'adjustment', 100000000, 'EUR', 100000000, '', 'opening balance', 'account create', '', 1796291680852228);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (3, '01a23b53d9f7230745bf95b68b4cd0f1', 'topup', 50000000, 'EUR', 150000000, '', 'bank transfer, invoice 2026-001', 'operator', 'fixture-topup-1', 1796291681216025);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (4, '01a23b53d9f7230745bf95b68b4cd0f1', 'refund', 350000, 'EUR', 150350000, '', 'refund for a complaint', 'operator', '', 1796291681227302);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (5, '01a23b53d9f7230745bf95b68b4cd0f1', 'adjustment', -1250000, 'EUR', 149100000, '', 'correction of a rounding difference', 'operator', '', 1796291681237986);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (6, '01a23b53d9f7230745bf95b68b4cd0f1', 'topup', 40000000, 'EUR', 189100000, '01a23b53dc2761392224f3c889a41543', 'top-up confirmed', 'operator', 'topup:01a23b53dc2761392224f3c889a41543', 1796291681326370);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (7, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 189030000, '01a23b53dc580a8b0ff285b2edecd4af', 'message', 'api', '', 1796291681368637);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (8, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -210000, 'EUR', 188820000, '01a23b53dc7312cf685d1444daa7bfe9', 'message', 'api', '', 1796291681395838);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (9, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -330000, 'EUR', 188490000, '01a23b53dc8debfd6190857a55c278f6', 'message', 'api', '', 1796291681421042);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (10, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 188420000, '01a23b53dc9dc19d2a4680748d1333ae', 'message', 'api', '', 1796291681437111);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (11, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 188350000, '01a23b53dcb17cf72317876eac5996cd', 'message', 'api', '', 1796291681457137);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (12, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 188280000, '01a23b53dcbfd1e0696123e5169efa4e', 'message', 'api', '', 1796291681471780);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (13, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 188210000, '01a23b53dccb331dba3bda81212267bc', 'message', 'api', '', 1796291681483494);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (14, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 188140000, '01a23b53dce8b91917a787f01ccb7196', 'message', 'api', '', 1796291681512172);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (15, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 188070000, '01a23b53dcf72d2b9662428a4365900f', 'message', 'api', '', 1796291681527698);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (16, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -60000, 'EUR', 188010000, '01a23b53dd1d7c12e58b4341686aeaf0', 'message', 'api', '', 1796291681565209);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (17, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 187940000, '01a23b53dd2dfc7ab61ff8cd0649c6e0', 'message', 'api', '', 1796291681581803);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (18, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 187870000, '01a23b53dd3faea2d48215fbe6c7e74a', 'message', 'api', '', 1796291681599598);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (19, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -140000, 'EUR', 187730000, '01a23b53dd4970201e83a1274ad5637c', 'message', 'api', '', 1796291681609192);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (20, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -340000, 'EUR', 187390000, '01a23b53dd5108738342711949f566e1', 'message', 'api', '', 1796291681617033);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (21, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 187320000, '01a23b53dd6ab2247230b6d126b83cab', 'message', 'api', '', 1796291681642411);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (22, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -180000, 'EUR', 187140000, '01a23b53dd73971644f1528d07f7175f', 'message', 'api', '', 1796291681651657);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (23, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 187070000, '01a23b53dd7b8c6a8c2a70f301182efe', 'message', 'api', '', 1796291681659551);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (24, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 187000000, '01a23b53dd8b7eca0b743eda7cda0f61', 'message', 'api', '', 1796291681675170);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (25, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 186930000, '01a23b53dd977670f588c7e909f207ce', 'message', 'api', '', 1796291681687804);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (26, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 186860000, '01a23b53ddadf8679aa066f51b8e08d0', 'message', 'api', '', 1796291681709116);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (27, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -80000, 'EUR', 186780000, '01a23b53de944257a55a7b16a0bc4084', 'message', 'api', '', 1796291681940977);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (28, '01a23b53d9f7230745bf95b68b4cd0f1', 'refund', 70000, 'EUR', 186850000, '01a23b53dd977670f588c7e909f207ce', 'message rejected in compliance review', 'operator', 'review:01a23b53dd977670f588c7e909f207ce', 1796291682000083);
INSERT INTO ledger OVERRIDING SYSTEM VALUE VALUES (29, '01a23b53d9f7230745bf95b68b4cd0f1', 'charge', -70000, 'EUR', 186780000, '01a23b53df250f7ce4ccafa3dc6381e1', 'message', 'api', '', 1796291682085327);


--
-- Data for Name: marketing_senders; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO marketing_senders VALUES ('01a23b53d9f7230745bf95b68b4cd0f1', '31655500001', 'Fixture', 1796291681659551);


--
-- Data for Name: messages; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO messages VALUES ('01a23b53dc580a8b0ff285b2edecd4af', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'Hello from the fixture', 'order-1001', 'http://127.0.0.1:34565/reports', 0, 0, '{}', 'plain', 1, 0, 1796291681368637, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dc7312cf685d1444daa7bfe9', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'Your parcel 4711 is on its way and will arrive tomorrow between 9:00 and 12:00. Your parcel 4711 is on its way and will arrive tomorrow between 9:00 and 12:00. Your parcel 4711 is on its way and will arrive tomorrow between 9:00 and 12:00. Your parcel 4711 is on its way and will arrive tomorrow between 9:00 and 12:00. Your parcel 4711 is on its way and will arrive tomorrow between 9:00 and 12:00. ', '', '', 0, 0, '{}', 'plain', 1, 0, 1796291681395838, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dc8debfd6190857a55c278f6', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'مرحبا بكم في خدمة العملاء، طلبكم قيد التوصيل. مرحبا بكم في خدمة العملاء، طلبكم قيد التوصيل. مرحبا بكم في خدمة العملاء، طلبكم قيد التوصيل. مرحبا بكم في خدمة العملاء، طلبكم قيد التوصيل. ', '', '', 0, 0, '{}', 'unicode', 1, 0, 1796291681421042, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dc9dc19d2a4680748d1333ae', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'binary', 'Fixture', '48656c6c6f20776f726c64', '', '', 0, 0, '{"udh":"050003cc0201"}', 'plain', 1, 0, 1796291681437111, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dcb17cf72317876eac5996cd', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'flash', 'Fixture', 'Flash: your code is 5521', '', '', 0, 0, '{}', 'plain', 0, 0, 1796291681457137, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dcbfd1e0696123e5169efa4e', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'hi with every option', 'opts-7', 'http://127.0.0.1:34565/reports', 86400, 10, '{}', 'unicode', 3, 0, 1796291681471780, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dccb331dba3bda81212267bc', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'Plain text sent with datacoding auto €', '', '', 0, 0, '{}', 'plain', 1, 0, 1796291681483494, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dce8b91917a787f01ccb7196', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', '3197010000001', 'From the account''s own number', 'num-1', '', 0, 0, '{}', 'plain', 1, 0, 1796291681512172, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dcf72d2b9662428a4365900f', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'Our new wine selection is in: 10% off this week', '', '', 0, 0, '{}', 'plain', 1, 0, 1796291681527698, 'marketing', 'alcohol', 'allowed as marketing');
INSERT INTO messages VALUES ('01a23b53dd1d7c12e58b4341686aeaf0', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'This one fails at the carrier', '', '', 0, 0, '{}', 'plain', 1, 0, 1796291681565209, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dd2dfc7ab61ff8cd0649c6e0', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'This one expires at the carrier', '', '', 0, 0, '{}', 'plain', 1, 0, 1796291681581803, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dd3faea2d48215fbe6c7e74a', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'No receipt comes for this one', 'silent-1', '', 0, 0, '{}', 'plain', 1, 0, 1796291681599598, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dd4970201e83a1274ad5637c', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'This message needs two parts to arrive. This message needs two parts to arrive. This message needs two parts to arrive. This message needs two parts to arrive. This message needs two parts to arrive. ', '', '', 0, 0, '{}', 'plain', 1, 0, 1796291681609192, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dd5108738342711949f566e1', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'One message, five fates', 'multi-5', 'http://127.0.0.1:34565/reports', 0, 0, '{}', 'plain', 1, 0, 1796291681617033, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dd6ab2247230b6d126b83cab', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'See you in 2099', '', '', 0, 0, '{}', 'plain', 1, 4070941200000000, 1796291681642411, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dd73971644f1528d07f7175f', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'Happy new century', 'century', '', 3600, 0, '{}', 'plain', 1, 4084000200000000, 1796291681651657, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53dd7b8c6a8c2a70f301182efe', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'Breakfast offers, marketing', '', '', 0, 0, '{}', 'plain', 1, 4070934000000000, 1796291681659551, 'marketing', '', 'deferred by quiet_hours until 2099-01-01T07:00:00Z');
INSERT INTO messages VALUES ('01a23b53dd8b7eca0b743eda7cda0f61', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'Track it: https://bit.ly/3xyz', '', '', 0, 0, '{}', 'plain', 1, 0, 1796291681675170, 'transactional', '', 'held for review by content.link_shortener');
INSERT INTO messages VALUES ('01a23b53dd977670f588c7e909f207ce', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'Please reply with your PIN to confirm', '', '', 0, 0, '{}', 'plain', 1, 0, 1796291681687804, 'transactional', '', 'held for review by content.credentials_request');
INSERT INTO messages VALUES ('01a23b53ddadf8679aa066f51b8e08d0', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'Pay to NL91ABNA0417164300 by Friday', '', '', 0, 0, '{}', 'plain', 1, 0, 1796291681709116, 'transactional', '', 'held for review by content.iban');
INSERT INTO messages VALUES ('01a23b53ddf186c5e51d01f33467bd50', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mo', 'sms', '31687654321', 'Hello, is my order on its way?', '', '', 0, 0, '{}', 'plain', 1, 0, 1796291681777155, 'transactional', '', '');
INSERT INTO messages VALUES ('01a23b53de2d06416ae7defc5c983124', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mo', 'sms', '31687654321', 'Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, Bonjour, ', '', '', 0, 0, '{}', 'plain', 1, 0, 1796291681837468, 'transactional', '', '');
INSERT INTO messages VALUES ('01a23b53de56ab4edc93bc576ba0a7bd', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mo', 'sms', '966501234567', 'مرحبا، أين طلبي؟', '', '', 0, 0, '{}', 'unicode', 1, 0, 1796291681878377, 'transactional', '', '');
INSERT INTO messages VALUES ('01a23b53de8826e3009a7aed1c7e1ec1', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mo', 'sms', '31655500002', 'STOP', '', '', 0, 0, '{}', 'plain', 1, 0, 1796291681928486, 'transactional', '', '');
INSERT INTO messages VALUES ('01a23b53de944257a55a7b16a0bc4084', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', '3197010000001', 'Je bent afgemeld en ontvangt geen berichten meer. Stuur START om je weer aan te melden.', 'keyword:01a23b53de8826e3009a7aed1c7e1ec1', '', 0, 0, '{}', 'plain', 0, 0, 1796291681940977, 'transactional', '', 'allowed as transactional');
INSERT INTO messages VALUES ('01a23b53df250f7ce4ccafa3dc6381e1', '01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'mt', 'sms', 'Fixture', 'Valid for one second only', '', '', 1, 0, '{}', 'plain', 1, 1796291687000000, 1796291682085327, 'transactional', '', 'allowed as transactional');


--
-- Data for Name: numbers; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO numbers VALUES ('3197010000001', '01a23b53d9f7230745bf95b68b4cd0f1', 1796291680774868);


--
-- Data for Name: pending_receipts; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO pending_receipts VALUES ('carrier-silent', '4242424242', '4242424242', 'delivered', 'successfully delivered', 0, 1796291682098641, 1796291682121654);
INSERT INTO pending_receipts VALUES ('carrier-silent', 'fcde41b2', '4242424242', 'delivered', 'successfully delivered', 0, 1796291682098641, 1796291682121654);
INSERT INTO pending_receipts VALUES ('carrier-silent', '284579480130', '4242424242', 'delivered', 'successfully delivered', 0, 1796291682098641, 1796291682121654);


--
-- Data for Name: prices; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO prices VALUES ('', 'sms', '', '', 'EUR', 80000, 1796291681202637);
INSERT INTO prices VALUES ('', 'sms', 'NL', '', 'EUR', 70000, 1796291681202637);
INSERT INTO prices VALUES ('', 'sms', 'SA', '', 'EUR', 110000, 1796291681202637);
INSERT INTO prices VALUES ('01a23b53d9f7230745bf95b68b4cd0f1', 'sms', 'NL', '316200', 'EUR', 60000, 1796291681211690);


--
-- Data for Name: proof_cases; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO proof_cases VALUES ('01a23b53df0f0149b300b7ff79dbedf4', '01a23b53d9f7230745bf95b68b4cd0f1', '31655500001', 'carrier audit', 'operator', 'answered', 1796550882063902, 'id,date,recipient,purpose,action,legal_age,categories,source,actor,evidence
1,2026-01-10T09:30:00Z,31655500001,marketing,opt_in,true,alcohol,web_form,api key 01a23b53d9f77f63f9308295fe71a03c for signup form,"formUrl=https://shop.example.com/signup; ip=203.0.113.7; text=Yes, send me offers. I am over 18.; userAgent=Mozilla/5.0 (fixture)"
', 1796291682063902, 1796291682071565);


--
-- Data for Name: realtime_alerts; Type: TABLE DATA; Schema: -; Owner: -
--



--
-- Data for Name: realtime_apps; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO realtime_apps VALUES ('467370911', '01a23b53d9f7230745bf95b68b4cd0f1', 'fixture-dashboard', '662161c161117c48480e', 'b42daa772c81449e7fb15a49e95d419f669f798d', '', 0, true, 100, 0, '', '', 5, 1796291681356509, 1796291681356509);


--
-- Data for Name: realtime_errors; Type: TABLE DATA; Schema: -; Owner: -
--



--
-- Data for Name: realtime_usage; Type: TABLE DATA; Schema: -; Owner: -
--



--
-- Data for Name: recipient_parts; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO recipient_parts VALUES ('01a23b53dc580a8b0ff285b2edecd4af', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852001', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dc7312cf685d1444daa7bfe9', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852002', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dc7312cf685d1444daa7bfe9', 0, 2, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852003', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dc7312cf685d1444daa7bfe9', 0, 3, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852004', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dc8debfd6190857a55c278f6', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852005', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dc8debfd6190857a55c278f6', 0, 2, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852006', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dc8debfd6190857a55c278f6', 0, 3, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852007', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dc9dc19d2a4680748d1333ae', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852008', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dcb17cf72317876eac5996cd', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852009', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dcbfd1e0696123e5169efa4e', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852010', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dccb331dba3bda81212267bc', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852011', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dce8b91917a787f01ccb7196', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852012', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dcf72d2b9662428a4365900f', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852013', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dd3faea2d48215fbe6c7e74a', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'carrier-silent', '680443001', 'sent', 0, 1796291681609360);
INSERT INTO recipient_parts VALUES ('01a23b53dd4970201e83a1274ad5637c', 0, 2, '01a23b53d9f7230745bf95b68b4cd0f1', 'carrier-silent', '680443003', 'sent', 0, 1796291681616676);
INSERT INTO recipient_parts VALUES ('01a23b53dd1d7c12e58b4341686aeaf0', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'carrier-failing', '680443001', 'delivery_failed', 1, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dd2dfc7ab61ff8cd0649c6e0', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'carrier-expiring', '680443001', 'expired', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dd5108738342711949f566e1', 3, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'carrier-silent', '680443004', 'sent', 0, 1796291681642599);
INSERT INTO recipient_parts VALUES ('01a23b53dd5108738342711949f566e1', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852014', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dd5108738342711949f566e1', 2, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'carrier-expiring', '680443002', 'expired', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dd5108738342711949f566e1', 1, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'carrier-failing', '680443002', 'delivery_failed', 1, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53de944257a55a7b16a0bc4084', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852015', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53ddadf8679aa066f51b8e08d0', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'demo-smsc', '680852016', 'delivered', 0, 1796291640000000);
INSERT INTO recipient_parts VALUES ('01a23b53dd4970201e83a1274ad5637c', 0, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'carrier-silent', '680443002', 'buffered', 0, 1796291682098638);
INSERT INTO recipient_parts VALUES ('01a23b53dd5108738342711949f566e1', 4, 1, '01a23b53d9f7230745bf95b68b4cd0f1', 'carrier-silent', '680443005', 'buffered', 0, 1796291682098638);


--
-- Data for Name: recipients; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO recipients VALUES ('01a23b53dd3faea2d48215fbe6c7e74a', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31640000001', 'NL', 31, 'sent', 1796291681599598, '', 0, 1, 29, 70000, 'EUR', 'carrier-silent', 1796291681599598);
INSERT INTO recipients VALUES ('01a23b53dc580a8b0ff285b2edecd4af', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612345678', 'NL', 31, 'delivered', 1796291640000000, 'successfully delivered', 0, 1, 22, 70000, 'EUR', 'demo-smsc', 1796291681368637);
INSERT INTO recipients VALUES ('01a23b53df250f7ce4ccafa3dc6381e1', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612340009', 'NL', 31, 'expired', 1796291689071592, 'expired', 0, 1, 25, 70000, 'EUR', '', 1796291682085327);
INSERT INTO recipients VALUES ('01a23b53dc7312cf685d1444daa7bfe9', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612345679', 'NL', 31, 'delivered', 1796291640000000, 'successfully delivered', 0, 3, 400, 210000, 'EUR', 'demo-smsc', 1796291681395838);
INSERT INTO recipients VALUES ('01a23b53dc8debfd6190857a55c278f6', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '966501234567', 'SA', 966, 'delivered', 1796291640000000, 'successfully delivered', 0, 3, 184, 330000, 'EUR', 'demo-smsc', 1796291681421042);
INSERT INTO recipients VALUES ('01a23b53dd1d7c12e58b4341686aeaf0', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31620000001', 'NL', 31, 'delivery_failed', 1796291640000000, 'undeliverable', 1, 1, 29, 60000, 'EUR', 'carrier-failing', 1796291681565209);
INSERT INTO recipients VALUES ('01a23b53dc9dc19d2a4680748d1333ae', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612345670', 'NL', 31, 'delivered', 1796291640000000, 'successfully delivered', 0, 1, 11, 70000, 'EUR', 'demo-smsc', 1796291681437111);
INSERT INTO recipients VALUES ('01a23b53dcb17cf72317876eac5996cd', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612345671', 'NL', 31, 'delivered', 1796291640000000, 'successfully delivered', 0, 1, 24, 70000, 'EUR', 'demo-smsc', 1796291681457137);
INSERT INTO recipients VALUES ('01a23b53dcbfd1e0696123e5169efa4e', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612345672', 'NL', 31, 'delivered', 1796291640000000, 'successfully delivered', 0, 1, 20, 70000, 'EUR', 'demo-smsc', 1796291681471780);
INSERT INTO recipients VALUES ('01a23b53dd6ab2247230b6d126b83cab', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612345678', 'NL', 31, 'scheduled', 0, '', 0, 1, 15, 70000, 'EUR', '', 1796291681642411);
INSERT INTO recipients VALUES ('01a23b53dccb331dba3bda81212267bc', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612345673', 'NL', 31, 'delivered', 1796291640000000, 'successfully delivered', 0, 1, 38, 70000, 'EUR', 'demo-smsc', 1796291681483494);
INSERT INTO recipients VALUES ('01a23b53dce8b91917a787f01ccb7196', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612345674', 'NL', 31, 'delivered', 1796291640000000, 'successfully delivered', 0, 1, 29, 70000, 'EUR', 'demo-smsc', 1796291681512172);
INSERT INTO recipients VALUES ('01a23b53dd73971644f1528d07f7175f', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612345678', 'NL', 31, 'scheduled', 0, '', 0, 1, 17, 70000, 'EUR', '', 1796291681651657);
INSERT INTO recipients VALUES ('01a23b53dd5108738342711949f566e1', 2, '01a23b53d9f7230745bf95b68b4cd0f1', '31630000003', 'NL', 31, 'expired', 1796291640000000, 'expired', 0, 1, 23, 70000, 'EUR', 'carrier-expiring', 1796291681617033);
INSERT INTO recipients VALUES ('01a23b53dcf72d2b9662428a4365900f', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31655500001', 'NL', 31, 'delivered', 1796291640000000, 'successfully delivered', 0, 1, 47, 70000, 'EUR', 'demo-smsc', 1796291681527698);
INSERT INTO recipients VALUES ('01a23b53dd5108738342711949f566e1', 1, '01a23b53d9f7230745bf95b68b4cd0f1', '31620000003', 'NL', 31, 'delivery_failed', 1796291640000000, 'undeliverable', 1, 1, 23, 60000, 'EUR', 'carrier-failing', 1796291681617033);
INSERT INTO recipients VALUES ('01a23b53dd73971644f1528d07f7175f', 1, '01a23b53d9f7230745bf95b68b4cd0f1', '966501234567', 'SA', 966, 'scheduled', 0, '', 0, 1, 17, 110000, 'EUR', '', 1796291681651657);
INSERT INTO recipients VALUES ('01a23b53dd2dfc7ab61ff8cd0649c6e0', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31630000001', 'NL', 31, 'expired', 1796291640000000, 'expired', 0, 1, 31, 70000, 'EUR', 'carrier-expiring', 1796291681581803);
INSERT INTO recipients VALUES ('01a23b53dd7b8c6a8c2a70f301182efe', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31655500001', 'NL', 31, 'scheduled', 0, '', 0, 1, 27, 70000, 'EUR', '', 1796291681659551);
INSERT INTO recipients VALUES ('01a23b53dd4970201e83a1274ad5637c', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31640000002', 'NL', 31, 'buffered', 1796291682098638, 'pending DLR', 0, 2, 200, 140000, 'EUR', 'carrier-silent', 1796291681609192);
INSERT INTO recipients VALUES ('01a23b53de944257a55a7b16a0bc4084', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31655500002', '', 0, 'delivered', 1796291640000000, 'successfully delivered', 0, 1, 87, 80000, 'EUR', 'demo-smsc', 1796291681940977);
INSERT INTO recipients VALUES ('01a23b53dd977670f588c7e909f207ce', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612345676', 'NL', 31, 'delivery_failed', 1796291681994824, 'rejected in compliance review: asks for a PIN, password, card number or login details', 0, 1, 37, 70000, 'EUR', '', 1796291681687804);
INSERT INTO recipients VALUES ('01a23b53dd8b7eca0b743eda7cda0f61', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612345675', 'NL', 31, 'scheduled', 0, '', 0, 1, 29, 70000, 'EUR', '', 1796291681675170);
INSERT INTO recipients VALUES ('01a23b53dd5108738342711949f566e1', 3, '01a23b53d9f7230745bf95b68b4cd0f1', '31640000003', 'NL', 31, 'sent', 1796291681617033, '', 0, 1, 23, 70000, 'EUR', 'carrier-silent', 1796291681617033);
INSERT INTO recipients VALUES ('01a23b53dd5108738342711949f566e1', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612340001', 'NL', 31, 'delivered', 1796291640000000, 'successfully delivered', 0, 1, 23, 70000, 'EUR', 'demo-smsc', 1796291681617033);
INSERT INTO recipients VALUES ('01a23b53ddf186c5e51d01f33467bd50', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '3197010000001', 'NL', 31, 'delivered', 1796291681777155, '', 0, 1, 30, 0, '', '', 1796291681777155);
INSERT INTO recipients VALUES ('01a23b53de2d06416ae7defc5c983124', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '3197010000001', 'NL', 31, 'delivered', 1796291681837468, '', 0, 2, 270, 0, '', '', 1796291681837468);
INSERT INTO recipients VALUES ('01a23b53de56ab4edc93bc576ba0a7bd', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '3197010000001', 'NL', 31, 'delivered', 1796291681878377, '', 0, 1, 16, 0, '', '', 1796291681878377);
INSERT INTO recipients VALUES ('01a23b53de8826e3009a7aed1c7e1ec1', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '3197010000001', 'NL', 31, 'delivered', 1796291681928486, '', 0, 1, 4, 0, '', '', 1796291681928486);
INSERT INTO recipients VALUES ('01a23b53ddadf8679aa066f51b8e08d0', 0, '01a23b53d9f7230745bf95b68b4cd0f1', '31612345677', 'NL', 31, 'delivered', 1796291640000000, 'successfully delivered', 0, 1, 35, 70000, 'EUR', 'demo-smsc', 1796291681709116);
INSERT INTO recipients VALUES ('01a23b53dd5108738342711949f566e1', 4, '01a23b53d9f7230745bf95b68b4cd0f1', '31640000004', 'NL', 31, 'buffered', 1796291682098638, 'pending DLR', 0, 1, 23, 70000, 'EUR', 'carrier-silent', 1796291681617033);


--
-- Data for Name: reviews; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO reviews VALUES ('01a23b53dd8b7eca0b743eda7cda0f61', '01a23b53d9f7230745bf95b68b4cd0f1', 'content.link_shortener', 'a link shortener hides where the link goes', 'pending', '', 1796291681675170, 0);
INSERT INTO reviews VALUES ('01a23b53dd977670f588c7e909f207ce', '01a23b53d9f7230745bf95b68b4cd0f1', 'content.credentials_request', 'asks for a PIN, password, card number or login details', 'rejected', 'operator', 1796291681687804, 1796291681994824);
INSERT INTO reviews VALUES ('01a23b53ddadf8679aa066f51b8e08d0', '01a23b53d9f7230745bf95b68b4cd0f1', 'content.iban', 'a bank account number (IBAN)', 'released', 'operator', 1796291681709116, 1796291682002230);


--
-- Data for Name: routes; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO routes OVERRIDING SYSTEM VALUE VALUES (1, '', '316200', '', 'carrier-failing', 1796291680766107);
INSERT INTO routes OVERRIDING SYSTEM VALUE VALUES (2, '', '316300', '', 'carrier-expiring', 1796291680770160);
INSERT INTO routes OVERRIDING SYSTEM VALUE VALUES (3, '', '316400', '', 'carrier-silent,carrier-failing', 1796291680771280);
INSERT INTO routes OVERRIDING SYSTEM VALUE VALUES (4, '01a23b53d9f7230745bf95b68b4cd0f1', '', 'DE', 'carrier-silent', 1796291680772030);


--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO schema_migrations VALUES (1, '001_init.sql', 1796291680526295);
INSERT INTO schema_migrations VALUES (2, '002_smpp.sql', 1796291680578486);
INSERT INTO schema_migrations VALUES (3, '003_billing.sql', 1796291680615911);
INSERT INTO schema_migrations VALUES (4, '004_realtime.sql', 1796291680635684);
INSERT INTO schema_migrations VALUES (5, '005_compliance.sql', 1796291680737237);
INSERT INTO schema_migrations VALUES (6, '006_compliance_rules.sql', 1796291680749138);
INSERT INTO schema_migrations VALUES (7, '007_dnd_scope.sql', 1796291680753641);
INSERT INTO schema_migrations VALUES (8, '008_marketing_senders.sql', 1796291680758306);


--
-- Data for Name: senders; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO senders VALUES ('01a23b53da5400386cf85d02b77a4edf', 'omnigate', 'approved', 'demo', 'demo', 'the demo account''s sender', 1796291680862913, 1796291680862913);
INSERT INTO senders VALUES ('01a23b53d9f7230745bf95b68b4cd0f1', 'Pending', 'pending', 'api key 01a23b53d9f77f63f9308295fe71a03c', '', '', 1796291681285975, 0);
INSERT INTO senders VALUES ('01a23b53d9f7230745bf95b68b4cd0f1', 'Fixture', 'approved', 'api key 01a23b53d9f77f63f9308295fe71a03c', 'operator', 'company registration checked', 1796291681281196, 1796291681288040);
INSERT INTO senders VALUES ('01a23b53d9f7230745bf95b68b4cd0f1', 'Promo', 'rejected', 'api key 01a23b53d9f77f63f9308295fe71a03c', 'operator', 'misleading brand', 1796291681284313, 1796291681293353);


--
-- Data for Name: suppressions; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO suppressions VALUES ('01a23b53d9f7230745bf95b68b4cd0f1', '31655500009', 'manual', 1796291681353527);
INSERT INTO suppressions VALUES ('01a23b53d9f7230745bf95b68b4cd0f1', '31655500002', 'opt_out', 1796291681928486);


--
-- Data for Name: topups; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO topups VALUES ('01a23b53dc1d4a2f1fd30f1469ef399d', '01a23b53d9f7230745bf95b68b4cd0f1', 25000000, 'EUR', 'pending', 'invoice', false, 'fixture-pending', 'api key 01a23b53d9f77f63f9308295fe71a03c', 1796291681309407, 0);
INSERT INTO topups VALUES ('01a23b53dc2761392224f3c889a41543', '01a23b53d9f7230745bf95b68b4cd0f1', 40000000, 'EUR', 'confirmed', 'invoice', false, 'fixture-confirmed', 'api key 01a23b53d9f77f63f9308295fe71a03c', 1796291681319308, 1796291681323228);


--
-- Data for Name: usage_alerts; Type: TABLE DATA; Schema: -; Owner: -
--



--
-- Data for Name: usage_counters; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO usage_counters VALUES ('01a23b53d9f7230745bf95b68b4cd0f1', 'messages', 'sms', 'month', 1796083200000000, 32);
INSERT INTO usage_counters VALUES ('01a23b53d9f7230745bf95b68b4cd0f1', 'spend', '', 'day', 1796256000000000, 2390000);


--
-- Data for Name: usage_limits; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO usage_limits VALUES ('01a23b53d9f7230745bf95b68b4cd0f1', 'messages', 'sms', 'month', 100000, 'block');
INSERT INTO usage_limits VALUES ('01a23b53d9f7230745bf95b68b4cd0f1', 'spend', '', 'day', 500000000, 'allow');


--
-- Name: complaints_id_seq; Type: SEQUENCE SET; Schema: -; Owner: -
--

SELECT pg_catalog.setval('complaints_id_seq', 1, true);


--
-- Name: compliance_decisions_id_seq; Type: SEQUENCE SET; Schema: -; Owner: -
--

SELECT pg_catalog.setval('compliance_decisions_id_seq', 8, true);


--
-- Name: consents_id_seq; Type: SEQUENCE SET; Schema: -; Owner: -
--

SELECT pg_catalog.setval('consents_id_seq', 4, true);


--
-- Name: jobs_id_seq; Type: SEQUENCE SET; Schema: -; Owner: -
--

SELECT pg_catalog.setval('jobs_id_seq', 34, true);


--
-- Name: ledger_id_seq; Type: SEQUENCE SET; Schema: -; Owner: -
--

SELECT pg_catalog.setval('ledger_id_seq', 29, true);


--
-- Name: realtime_errors_id_seq; Type: SEQUENCE SET; Schema: -; Owner: -
--

SELECT pg_catalog.setval('realtime_errors_id_seq', 1, false);


--
-- Name: routes_id_seq; Type: SEQUENCE SET; Schema: -; Owner: -
--

SELECT pg_catalog.setval('routes_id_seq', 4, true);


--
-- Name: access_keys access_keys_hash_key; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY access_keys
    ADD CONSTRAINT access_keys_hash_key UNIQUE (hash);


--
-- Name: access_keys access_keys_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY access_keys
    ADD CONSTRAINT access_keys_pkey PRIMARY KEY (id);


--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);


--
-- Name: complaints complaints_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY complaints
    ADD CONSTRAINT complaints_pkey PRIMARY KEY (id);


--
-- Name: compliance_decisions compliance_decisions_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY compliance_decisions
    ADD CONSTRAINT compliance_decisions_pkey PRIMARY KEY (id);


--
-- Name: connectors connectors_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY connectors
    ADD CONSTRAINT connectors_pkey PRIMARY KEY (name);


--
-- Name: consents consents_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY consents
    ADD CONSTRAINT consents_pkey PRIMARY KEY (id);


--
-- Name: dnd dnd_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY dnd
    ADD CONSTRAINT dnd_pkey PRIMARY KEY (registry, prefix);


--
-- Name: inbound_parts inbound_parts_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY inbound_parts
    ADD CONSTRAINT inbound_parts_pkey PRIMARY KEY (connector, source, destination, ref, part);


--
-- Name: jobs jobs_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);


--
-- Name: ledger ledger_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY ledger
    ADD CONSTRAINT ledger_pkey PRIMARY KEY (id);


--
-- Name: marketing_senders marketing_senders_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY marketing_senders
    ADD CONSTRAINT marketing_senders_pkey PRIMARY KEY (account_id, recipient, originator);


--
-- Name: messages messages_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY messages
    ADD CONSTRAINT messages_pkey PRIMARY KEY (id);


--
-- Name: numbers numbers_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY numbers
    ADD CONSTRAINT numbers_pkey PRIMARY KEY (number);


--
-- Name: pending_receipts pending_receipts_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY pending_receipts
    ADD CONSTRAINT pending_receipts_pkey PRIMARY KEY (connector, smsc_id);


--
-- Name: prices prices_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY prices
    ADD CONSTRAINT prices_pkey PRIMARY KEY (account_id, channel, country, prefix, currency);


--
-- Name: proof_cases proof_cases_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY proof_cases
    ADD CONSTRAINT proof_cases_pkey PRIMARY KEY (id);


--
-- Name: realtime_alerts realtime_alerts_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY realtime_alerts
    ADD CONSTRAINT realtime_alerts_pkey PRIMARY KEY (app_id, day, limit_name, threshold);


--
-- Name: realtime_apps realtime_apps_app_key_key; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY realtime_apps
    ADD CONSTRAINT realtime_apps_app_key_key UNIQUE (app_key);


--
-- Name: realtime_apps realtime_apps_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY realtime_apps
    ADD CONSTRAINT realtime_apps_pkey PRIMARY KEY (id);


--
-- Name: realtime_errors realtime_errors_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY realtime_errors
    ADD CONSTRAINT realtime_errors_pkey PRIMARY KEY (id);


--
-- Name: realtime_usage realtime_usage_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY realtime_usage
    ADD CONSTRAINT realtime_usage_pkey PRIMARY KEY (app_id, day);


--
-- Name: recipient_parts recipient_parts_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY recipient_parts
    ADD CONSTRAINT recipient_parts_pkey PRIMARY KEY (message_id, seq, part);


--
-- Name: recipients recipients_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY recipients
    ADD CONSTRAINT recipients_pkey PRIMARY KEY (message_id, seq);


--
-- Name: reviews reviews_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY reviews
    ADD CONSTRAINT reviews_pkey PRIMARY KEY (message_id);


--
-- Name: routes routes_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY routes
    ADD CONSTRAINT routes_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: senders senders_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY senders
    ADD CONSTRAINT senders_pkey PRIMARY KEY (account_id, originator);


--
-- Name: suppressions suppressions_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY suppressions
    ADD CONSTRAINT suppressions_pkey PRIMARY KEY (account_id, recipient);


--
-- Name: topups topups_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY topups
    ADD CONSTRAINT topups_pkey PRIMARY KEY (id);


--
-- Name: usage_alerts usage_alerts_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY usage_alerts
    ADD CONSTRAINT usage_alerts_pkey PRIMARY KEY (account_id, metric, channel, period, period_start, threshold);


--
-- Name: usage_counters usage_counters_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY usage_counters
    ADD CONSTRAINT usage_counters_pkey PRIMARY KEY (account_id, metric, channel, period, period_start);


--
-- Name: usage_limits usage_limits_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY usage_limits
    ADD CONSTRAINT usage_limits_pkey PRIMARY KEY (account_id, metric, channel, period);


--
-- Name: complaints_account; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX complaints_account ON complaints USING btree (account_id, created_at);


--
-- Name: compliance_decisions_account; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX compliance_decisions_account ON compliance_decisions USING btree (account_id, created_at);


--
-- Name: consents_recipient; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX consents_recipient ON consents USING btree (account_id, recipient, purpose, id);


--
-- Name: dnd_prefix; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX dnd_prefix ON dnd USING btree (prefix);


--
-- Name: inbound_parts_received; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX inbound_parts_received ON inbound_parts USING btree (received_at);


--
-- Name: jobs_due; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX jobs_due ON jobs USING btree (kind, run_at);


--
-- Name: jobs_lease_owner; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX jobs_lease_owner ON jobs USING btree (lease_owner) WHERE (lease_owner <> ''::text);


--
-- Name: jobs_message; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX jobs_message ON jobs USING btree (message_id);


--
-- Name: ledger_account; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX ledger_account ON ledger USING btree (account_id, created_at);


--
-- Name: ledger_idempotency; Type: INDEX; Schema: -; Owner: -
--

CREATE UNIQUE INDEX ledger_idempotency ON ledger USING btree (account_id, idempotency_key) WHERE (idempotency_key <> ''::text);


--
-- Name: marketing_senders_last; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX marketing_senders_last ON marketing_senders USING btree (last_at);


--
-- Name: messages_account_created; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX messages_account_created ON messages USING btree (account_id, created_at DESC, id DESC);


--
-- Name: messages_created; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX messages_created ON messages USING btree (created_at);


--
-- Name: numbers_account; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX numbers_account ON numbers USING btree (account_id);


--
-- Name: pending_receipts_received; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX pending_receipts_received ON pending_receipts USING btree (received_at);


--
-- Name: proof_cases_open; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX proof_cases_open ON proof_cases USING btree (status, due_at);


--
-- Name: realtime_apps_account; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX realtime_apps_account ON realtime_apps USING btree (account_id, created_at);


--
-- Name: realtime_errors_app; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX realtime_errors_app ON realtime_errors USING btree (app_id, at);


--
-- Name: realtime_errors_at; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX realtime_errors_at ON realtime_errors USING btree (at);


--
-- Name: recipient_parts_smsc; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX recipient_parts_smsc ON recipient_parts USING btree (connector, smsc_id);


--
-- Name: recipients_account_address; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX recipients_account_address ON recipients USING btree (account_id, address);


--
-- Name: reviews_status; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX reviews_status ON reviews USING btree (status, created_at);


--
-- Name: routes_match; Type: INDEX; Schema: -; Owner: -
--

CREATE UNIQUE INDEX routes_match ON routes USING btree (account_id, prefix, country);


--
-- Name: topups_account; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX topups_account ON topups USING btree (account_id, created_at);


--
-- Name: topups_one_pending; Type: INDEX; Schema: -; Owner: -
--

CREATE UNIQUE INDEX topups_one_pending ON topups USING btree (account_id) WHERE ((status = 'pending'::text) AND automatic);


--
-- Name: access_keys access_keys_account_id_fkey; Type: FK CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY access_keys
    ADD CONSTRAINT access_keys_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id);


--
-- Name: realtime_apps realtime_apps_account_id_fkey; Type: FK CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY realtime_apps
    ADD CONSTRAINT realtime_apps_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id);


--
-- PostgreSQL database dump complete
--


