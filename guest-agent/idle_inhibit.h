/*
 * Idle inhibitors of guest apps (zwp_idle_inhibit_manager_v1): the agent
 * tells the host which of its windows have an app that wants the session
 * kept awake (IDLE_INHIBIT, protocol version 3), per toplevel window:
 * an inhibitor on a subsurface or popup counts for its toplevel. Whether
 * the host honours it is the host's decision (the VM's idle-inhibit
 * setting, off by default).
 */
#ifndef VITRAIL_AGENT_IDLE_INHIBIT_H
#define VITRAIL_AGENT_IDLE_INHIBIT_H

struct agent_server;
struct agent_idle_inhibit;

struct agent_idle_inhibit *agent_idle_inhibit_create(struct agent_server *server);
void agent_idle_inhibit_destroy(struct agent_idle_inhibit *ii);
/* The link came up (windows were announced) or went down. */
void agent_idle_inhibit_link_ready(struct agent_idle_inhibit *ii);
void agent_idle_inhibit_link_lost(struct agent_idle_inhibit *ii);
/* A window got its host id: an inhibitor on it may now be told. */
void agent_idle_inhibit_window_announced(struct agent_idle_inhibit *ii);

#endif
