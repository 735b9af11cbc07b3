// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module: the glue above the core (CLI, show, northbound,
 * YANG state), as seen by the module setup (bgp_rs_module.c). The glue
 * files use the core (bgp_rs.h) and never each other, except the
 * northbound's node table naming the YANG state callbacks.
 */
#ifndef BGP_RS_GLUE_H
#define BGP_RS_GLUE_H

#include "lib/northbound.h"

/* bgp_rs_vty.c: configuration and debug commands */
extern void rs_vty_init(void);

/* bgp_rs_show.c */
extern void rs_show_init(void);

/* bgp_rs_nb.c: configuration callbacks, config write, objects deleted */
extern const struct frr_yang_module_info frr_bgp_route_server_info;
extern void rs_nb_init(void);

/* bgp_rs_state.c: northbound callbacks of the config false nodes */
extern const void *rs_state_instance_get_next(struct nb_cb_get_next_args *args);
extern int rs_state_instance_get_keys(struct nb_cb_get_keys_args *args);
extern const void *
rs_state_instance_lookup_entry(struct nb_cb_lookup_entry_args *args);
extern const void *rs_state_warning_get_next(struct nb_cb_get_next_args *args);
extern struct yang_data *
rs_state_warning_get_elem(struct nb_cb_get_elem_args *args);
extern const void *rs_state_neighbor_get_next(struct nb_cb_get_next_args *args);
extern int rs_state_neighbor_get_keys(struct nb_cb_get_keys_args *args);
extern const void *
rs_state_neighbor_lookup_entry(struct nb_cb_lookup_entry_args *args);
extern struct yang_data *
rs_state_neighbor_get_elem(struct nb_cb_get_elem_args *args);
extern void rs_state_fini(void);

#endif /* BGP_RS_GLUE_H */
