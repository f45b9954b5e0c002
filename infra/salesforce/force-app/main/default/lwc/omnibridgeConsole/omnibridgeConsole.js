import { LightningElement, api } from 'lwc';
import { subscribe, unsubscribe, onError } from 'lightning/empApi';
import userId from '@salesforce/user/Id';
import sendPresenceEvents from '@salesforce/apex/Omnibridge_ConsoleController.sendPresenceEvents';
import serviceChannelOf from '@salesforce/apex/Omnibridge_ConsoleController.serviceChannelOf';
import { COMMAND_CHANNEL, PresenceBridge, reasonOf } from 'c/omnibridgePresence';
import { SCREEN_POP_CHANNEL, ScreenPopper } from 'c/omnibridgeScreenPop';

/**
 * The Omnibridge console utility's inside: wires the platform's APIs to the PresenceBridge
 * (c/omnibridgePresence) and the ScreenPopper (c/omnibridgeScreenPop), which hold all the logic.
 *
 * - lightning/empApi: subscribes to the command channel and to the screen pop channel, both for
 *   new events only (replay -1: a command published while the console was closed is stale by
 *   the time it opens, and the bridge's poll reconciles; a pop older than a minute is not
 *   opened anyway);
 * - Apex: Omnibridge_ConsoleController.sendPresenceEvents (signs and posts each batch) and
 *   serviceChannelOf (the channel of accepted work);
 * - the Omni-Channel toolkit and its events are Aura-only, so the Aura wrapper
 *   (aura/Omnibridge_Console) passes the toolkit in as `toolkit` and forwards each event to the
 *   public methods below; it passes lightning:workspaceAPI in as `workspace` too (the LWC module
 *   lightning/platformWorkspaceApi needs Lightning Web Security in the org; the Aura one works in
 *   every console app).
 */
export default class OmnibridgeConsole extends LightningElement {
    /** The status line the utility panel shows. */
    statusLine = 'Connecting to Omnibridge…';
    popStatusLine = '';
    lastActivity = '';

    bridge;
    popper;
    subscription;
    popSubscription;
    _toolkit = null;
    _workspace = null;

    /** {setServicePresenceStatus(statusId), logout()} from the Aura wrapper. */
    @api
    get toolkit() {
        return this._toolkit;
    }
    set toolkit(value) {
        this._toolkit = value || null;
        if (this.bridge) {
            this.bridge.toolkit = this._toolkit;
        }
    }

    /** {openTab({recordId, focus})} over lightning:workspaceAPI, from the Aura wrapper. */
    @api
    get workspace() {
        return this._workspace;
    }
    set workspace(value) {
        this._workspace = value || null;
        if (this.popper) {
            this.popper.workspace = this._workspace;
        }
    }

    connectedCallback() {
        this.bridge = new PresenceBridge({
            userId,
            toolkit: this._toolkit,
            send: (eventsJson) => sendPresenceEvents({ eventsJson }),
            serviceChannelOf: (workId) => serviceChannelOf({ workId }),
            onActivity: (text) => {
                this.lastActivity = text;
            }
        });
        this.popper = new ScreenPopper({
            userId,
            workspace: this._workspace,
            onActivity: (text) => {
                this.lastActivity = text;
            }
        });
        onError((error) => {
            this.statusLine = `Command channel error: ${reasonOf(error)}`;
            console.error('Omnibridge: command channel error', error);
        });
        subscribe(COMMAND_CHANNEL, -1, (message) => this.bridge.handleCommand(message))
            .then((subscription) => {
                this.subscription = subscription;
                this.statusLine = 'Subscribed to Omnibridge presence commands';
            })
            .catch((error) => {
                this.statusLine = `Not subscribed: ${reasonOf(error)}`;
                console.error('Omnibridge: could not subscribe to ' + COMMAND_CHANNEL, error);
            });
        subscribe(SCREEN_POP_CHANNEL, -1, (message) => this.popper.handlePop(message))
            .then((subscription) => {
                this.popSubscription = subscription;
                this.popStatusLine = 'Subscribed to Omnibridge screen pops';
            })
            .catch((error) => {
                this.popStatusLine = `Screen pops not subscribed: ${reasonOf(error)}`;
                console.error('Omnibridge: could not subscribe to ' + SCREEN_POP_CHANNEL, error);
            });
    }

    disconnectedCallback() {
        if (this.subscription) {
            unsubscribe(this.subscription);
            this.subscription = undefined;
        }
        if (this.popSubscription) {
            unsubscribe(this.popSubscription);
            this.popSubscription = undefined;
        }
        this.bridge.close();
    }

    /** lightning:omniChannelStatusChanged's parameters. */
    @api
    statusChanged(params) {
        this.bridge.statusChanged(params);
    }

    /** lightning:omniChannelLogout. */
    @api
    loggedOut(params) {
        this.bridge.loggedOut(params);
    }

    /** lightning:omniChannelWorkAccepted's parameters. */
    @api
    workAccepted(params) {
        return this.bridge.workAccepted(params);
    }

    /** lightning:omniChannelWorkloadChanged's parameters. */
    @api
    workloadChanged(params) {
        this.bridge.workloadChanged(params);
    }
}
