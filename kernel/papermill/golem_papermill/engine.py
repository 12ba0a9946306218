"""papermill's nbclient engine with a shell channel that cannot lose a reply.

The package's comment says why; this module holds the classes (apart from the
translator, so that papermill can load the ``golem`` engine entry point while
``golem_papermill`` itself is still being imported).
"""

from __future__ import annotations

import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from papermill.engines import NBClientEngine
from traitlets import DottedObjectName, Type


class ShellSafeChannel(AsyncZMQSocketChannel):
    """An asyncio shell channel whose sends cannot hide a reply from a pending poll."""

    def send(self, msg):
        super().send(msg)
        # Session.send wrote through a blocking shadow of self.socket, which may have
        # consumed the wake-up of a message now waiting; reading EVENTS through the
        # asyncio socket schedules its handlers when one is.
        self.socket.get(zmq.EVENTS)


class KernelClient(AsyncKernelClient):
    """jupyter_client's asyncio kernel client with :class:`ShellSafeChannel` as its shell."""

    shell_channel_class = Type(ShellSafeChannel)


class KernelManager(AsyncKernelManager):
    """jupyter_client's asyncio kernel manager whose clients are :class:`KernelClient`."""

    client_class = DottedObjectName("golem_papermill.engine.KernelClient")
    client_factory = Type(KernelClient)


class GolemEngine(NBClientEngine):
    """papermill's nbclient engine with :class:`KernelManager` (see the package comment);
    registered as ``golem`` (``--engine golem``) and as papermill's default engine."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        kwargs.setdefault("kernel_manager_class", KernelManager)
        return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
