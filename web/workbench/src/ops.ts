// The operations the workbench sends: the very files in gql/ (the manifest's source), parsed here
// only so Apollo can add __typename and name them; on the wire each is its manifest id.
import { gql } from "@apollo/client/core";
import addNote from "../../../gql/add_interaction_note.graphql";
import bindCaller from "../../../gql/bind_caller.graphql";
import callerMatch from "../../../gql/caller_match.graphql";
import createTicket from "../../../gql/create_ticket.graphql";
import candidates from "../../../gql/identification_candidates.graphql";
import feeAdjustment from "../../../gql/request_fee_adjustment.graphql";
import verifyCaller from "../../../gql/verify_caller.graphql";
import revealPii from "../../../gql/workbench_reveal.graphql";
import account from "../../../gql/workbench_account.graphql";
import call from "../../../gql/workbench_call.graphql";
import mains from "../../../gql/workbench_mains.graphql";
import pop from "../../../gql/workbench_pop.graphql";
import ticket from "../../../gql/workbench_ticket.graphql";

export const ADD_NOTE = gql(addNote);
export const CREATE_TICKET = gql(createTicket);
export const FEE_ADJUSTMENT = gql(feeAdjustment);
export const REVEAL_PII = gql(revealPii);
export const ACCOUNT = gql(account);
export const CALL = gql(call);
export const MAINS = gql(mains);
export const POP = gql(pop);
export const TICKET = gql(ticket);
// Callers Tidegate does not know: where the call stands, then search, verify, bind (identify.tsx).
export const CALLER_MATCH = gql(callerMatch);
export const CANDIDATES = gql(candidates);
export const VERIFY_CALLER = gql(verifyCaller);
export const BIND_CALLER = gql(bindCaller);
