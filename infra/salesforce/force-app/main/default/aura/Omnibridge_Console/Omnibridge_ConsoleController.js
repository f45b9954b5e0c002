({
    // Adapts lightning:omniToolkitAPI to the {setServicePresenceStatus, logout} the
    // PresenceBridge uses; both return the toolkit's promises unchanged, so a rejection carries
    // the toolkit's reason into the command's acknowledgement.
    onInit: function (cmp) {
        var omniAPI = cmp.find('omniToolkit');
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
