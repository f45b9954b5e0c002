({
    // Adapts lightning:omniToolkitAPI to the {setServicePresenceStatus, logout} the
    // PresenceBridge uses, and lightning:workspaceAPI to the {openTab} the ScreenPopper uses; each
    // returns the API's promise unchanged, so a rejection carries its reason into the command's
    // acknowledgement or the screen pop's log line.
    onInit: function (cmp) {
        var omniAPI = cmp.find('omniToolkit');
        var workspaceAPI = cmp.find('workspace');
        cmp.set('v.workspace', {
            openTab: function (args) {
                return workspaceAPI.openTab({ recordId: args.recordId, focus: args.focus });
            }
        });
        cmp.set('v.toolkit', {
            setServicePresenceStatus: function (statusId) {
                return omniAPI.setServicePresenceStatus({ statusId: statusId });
            },
            logout: function () {
                return omniAPI.logout();
            }
        });
    },

    onStatusChanged: function (cmp, event) {
        cmp.find('bridge').statusChanged(event.getParams());
    },

    onLogout: function (cmp, event) {
        cmp.find('bridge').loggedOut(event.getParams());
    },

    onWorkAccepted: function (cmp, event) {
        cmp.find('bridge').workAccepted(event.getParams());
    },

    onWorkloadChanged: function (cmp, event) {
        cmp.find('bridge').workloadChanged(event.getParams());
    }
})
