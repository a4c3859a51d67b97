"""`kehu serve` on a port another server holds is refused, naming the port (granian would
otherwise share it through SO_REUSEPORT with whatever already listens there)."""

import socket

import pytest
import typer

from kehu.cli.demo import _port_free_or_exit


def test_a_busy_port_is_refused_and_a_free_one_is_accepted(capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(typer.Exit) as refused:
            _port_free_or_exit(host="127.0.0.1", port=port)
    assert refused.value.exit_code == 1
    assert f"Port {port}" in capsys.readouterr().out

    _port_free_or_exit(host="127.0.0.1", port=port)  # released: no error
