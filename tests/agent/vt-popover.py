#!/usr/bin/python3
"""A GTK4 window whose popover opens by itself, for tests: prints
"popped" once the popover is shown, then runs until killed."""
import sys
import gi
gi.require_version('Gtk', '4.0')
from gi.repository import Gtk, GLib

def on_activate(app):
    win = Gtk.ApplicationWindow(application=app, title='popover test')
    win.set_default_size(320, 240)
    box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL)
    button = Gtk.MenuButton(label='Menu')
    pop = Gtk.Popover()
    pop.set_child(Gtk.Label(label='A popover with rounded corners'))
    button.set_popover(pop)
    box.append(button)
    win.set_child(box)
    win.present()

    def popup():
        pop.popup()
        GLib.timeout_add(1500, lambda: (print('popped', flush=True), False)[1])
        return False
    GLib.timeout_add(1000, popup)

app = Gtk.Application(application_id='org.vitrail.PopoverTest')
app.connect('activate', on_activate)
app.run([])
